"""Dirty data, on purpose, over real HTTP: every defect the truth reports can be found in what the
server serves, by the rule a warehouse would use to detect it, and nothing more.

A private server with a high defect rate, so that a small world carries every kind of defect.
"""

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from conftest import MockApi, running_mock_api

from testbench.mock_apis import dirty
from testbench.mock_apis.pools import INDUSTRIES
from testbench.mock_apis.truth import truth
from testbench.mock_apis.world import World

TIMEOUT = (5, 60)
SEED, SCALE, RATE = 21, 1000, 0.2
CLEAN_AMOUNT = re.compile(r"^\d+\.\d{2}$")
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


@pytest.fixture(scope="module")
def api() -> Iterator[MockApi]:
    with running_mock_api(SEED, SCALE, "--dirty-rate", str(RATE)) as server:
        yield server


@pytest.fixture(scope="module")
def served(api) -> dict[str, list[dict[str, Any]]]:
    def mailchimp(path: str, key: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while True:
            page = requests.get(
                f"{api.mailchimp_base_url}{path}",
                params={"count": 1000, "offset": len(records)},
                auth=api.mailchimp_auth,
                timeout=TIMEOUT,
            ).json()
            records += page[key]
            if len(records) >= page["total_items"]:
                return records

    def hubspot(object_type: str, properties: str) -> list[dict[str, Any]]:
        records, after = [], None
        while True:
            page = requests.get(
                f"{api.hubspot_base_url}/crm/v3/objects/{object_type}",
                params={"limit": 100, "after": after, "properties": properties},
                headers=api.hubspot_headers,
                timeout=TIMEOUT,
            ).json()
            records += [record["properties"] | {"id": record["id"]} for record in page["results"]]
            if "paging" not in page:
                return records
            after = page["paging"]["next"]["after"]

    lists = mailchimp("/lists", "lists")
    return {
        "list_members": [
            m for item in lists for m in mailchimp(f"/lists/{item['id']}/members", "members")
        ],
        "contacts": hubspot("contacts", "email,firstname,lastname,phone,country,city"),
        "companies": hubspot("companies", "name,domain,industry,country"),
        "deals": hubspot("deals", "amount"),
    }


@pytest.fixture(scope="module")
def expected(api) -> dict[str, Any]:
    return api.truth()


def is_one_case(text: str | None) -> bool:
    return bool(text) and (text == text.upper() or text == text.lower())


def invalid(email: str) -> bool:
    local, at, domain = email.strip().partition("@")
    return not at or ".." in email or local.endswith(".") or "." not in domain


def detected(stream: str, record: dict[str, Any]) -> str | None:
    """The defect a warehouse's detection rules find in one served record."""
    if stream == "list_members":
        if record["email_address"] != record["email_address"].lower():
            return dirty.MIXED_CASE
        if record["full_name"] != record["full_name"].strip():
            return dirty.STRAY_WHITESPACE
    elif stream == "contacts":
        if invalid(record["email"]):
            return dirty.INVALID_EMAIL
        if record["phone"] == "":
            return dirty.EMPTY_STRING
        if not COUNTRY_CODE.match(record["country"]):
            return dirty.COUNTRY_SPELLING
        if is_one_case(record["city"]):
            return dirty.MIXED_CASE
    elif stream == "companies":
        if record["industry"] is not None and record["industry"] not in INDUSTRIES:
            return dirty.INDUSTRY_SPELLING
        if not COUNTRY_CODE.match(record["country"]):
            return dirty.COUNTRY_SPELLING
        if record["domain"] == "":
            return dirty.EMPTY_STRING
        if is_one_case(record["name"]):
            return dirty.MIXED_CASE
    elif record["amount"] is None:
        return dirty.MISSING_AMOUNT
    elif not CLEAN_AMOUNT.match(record["amount"]):
        return dirty.AMOUNT_FORMAT
    return None


@pytest.mark.parametrize("stream", ["list_members", "contacts", "companies", "deals"])
def test_served_defects_are_exactly_the_truths(served, expected, stream):
    found = Counter(detected(stream, record) for record in served[stream])
    found.pop(None, None)
    if stream == "contacts":  # a duplicate is found by grouping, not in one record
        found[dirty.DUPLICATE_PERSON] = duplicates(served["contacts"])
    reported = {defect: count for defect, count in expected["dirty"][stream].items() if count}
    assert dict(found) == reported
    assert len(reported) == len(expected["dirty"][stream]), "every kind of defect occurs"


def duplicates(contacts: list[dict[str, Any]]) -> int:
    """Records a deduplication on the normalised email removes."""
    by_email = Counter(
        record["email"].strip().lower() for record in contacts if not invalid(record["email"])
    )
    return sum(count - 1 for count in by_email.values())


def test_duplicates_are_served_as_contacts(api, served, expected):
    assert len(served["contacts"]) == expected["counts"]["contacts"]
    keys = api.truth(keys=True)["keys"]["contacts"]
    assert sorted(record["id"] for record in served["contacts"]) == keys


def test_defects_are_deterministic_and_off_at_rate_zero(expected):
    assert expected["dirty"] == truth(World(SEED, SCALE, 0, RATE))["dirty"]
    clean = truth(World(SEED, SCALE, 0, 0.0))
    assert all(count == 0 for counts in clean["dirty"].values() for count in counts.values())


def test_quarantined_deals_are_left_out_of_attribution(expected):
    clean = {row["campaign_id"]: row for row in truth(World(SEED, SCALE, 0, 0.0))["campaigns"]}
    rows = expected["campaigns"]
    assert all(row["won_deals"] <= clean[row["campaign_id"]]["won_deals"] for row in rows)
    assert sum(row["won_deals"] for row in rows) < sum(row["won_deals"] for row in clean.values())


def test_every_defect_is_documented_as_cleanable_or_unrecoverable():
    defects = {defect for kinds in dirty.DEFECTS.values() for defect in kinds}
    defects.add(dirty.DUPLICATE_PERSON)
    assert defects == set(dirty.CLEANABLE) | set(dirty.UNRECOVERABLE)
    assert not set(dirty.CLEANABLE) & set(dirty.UNRECOVERABLE)
