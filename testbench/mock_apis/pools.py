"""Bounded pools of realistic values, built once per seed with Faker.

Faker is far too slow to call per record (tens of microseconds per value), so the world asks it for
a few hundred values of each kind at startup and then picks from these pools with its cheap
per-record random streams. Memory stays constant whatever the scale.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from faker import Faker

# HubSpot's `industry` is an enumeration; these are some of its real values.
INDUSTRIES = (
    "COMPUTER_SOFTWARE",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "MARKETING_AND_ADVERTISING",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "RETAIL",
    "EDUCATION_MANAGEMENT",
    "CONSTRUCTION",
    "FOOD_BEVERAGES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "REAL_ESTATE",
    "TELECOMMUNICATIONS",
)


@dataclass(frozen=True, slots=True)
class Place:
    latitude: float
    longitude: float
    city: str
    country_code: str
    timezone: str
    gmt_offset_hours: int


@dataclass(frozen=True, slots=True)
class Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    company_names: tuple[str, ...]
    free_email_domains: tuple[str, ...]
    places: tuple[Place, ...]
    job_titles: tuple[str, ...]
    click_urls: tuple[str, ...]
    subject_lines: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    # Slugs of the names above, position for position: regex work done once, not per record.
    first_name_slugs: tuple[str, ...] = ()
    last_name_slugs: tuple[str, ...] = ()
    company_slugs: tuple[str, ...] = ()


def slug(text: str) -> str:
    """Lowercase ASCII letters and digits only: safe inside an email address or a domain."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _unique(values: list[str]) -> tuple[str, ...]:
    """Distinct values in first-seen order, dropping those whose slug is empty or already taken."""
    seen: set[str] = set()
    kept = []
    for value in values:
        key = slug(value)
        if key and key not in seen:
            seen.add(key)
            kept.append(value)
    return tuple(kept)


def _place(fake: Faker) -> Place:
    latitude, longitude, city, country_code, timezone = fake.location_on_land()
    offset = ZoneInfo(timezone).utcoffset(datetime(2026, 1, 1, tzinfo=UTC))
    hours = int(offset.total_seconds() // 3600) if offset is not None else 0
    return Place(float(latitude), float(longitude), city, country_code, timezone, hours)


@lru_cache(maxsize=4)  # pools are immutable: worlds with the same seed share them
def build_pools(seed: int) -> Pools:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    first_names = _unique([fake.first_name() for _ in range(400)])
    last_names = _unique([fake.last_name() for _ in range(400)])
    company_names = _unique([fake.company() for _ in range(300)])
    return Pools(
        first_names=first_names,
        last_names=last_names,
        company_names=company_names,
        free_email_domains=_unique([fake.free_email_domain() for _ in range(30)]),
        places=tuple(_place(fake) for _ in range(150)),
        job_titles=tuple(dict.fromkeys(fake.job() for _ in range(150))),
        click_urls=tuple(f"https://{fake.domain_name()}/{fake.uri_path()}" for _ in range(40)),
        subject_lines=tuple(fake.catch_phrase() for _ in range(120)),
        ip_addresses=tuple(fake.ipv4_public() for _ in range(1000)),
        first_name_slugs=tuple(slug(name) for name in first_names),
        last_name_slugs=tuple(slug(name) for name in last_names),
        company_slugs=tuple(slug(name) for name in company_names),
    )
