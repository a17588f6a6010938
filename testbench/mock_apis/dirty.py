"""Dirty data, on purpose: the defects real CRM and email-marketing exports carry.

A fraction ``dirty_rate`` of the records of each stream carries exactly one defect, chosen from a
64-bit key of ``(seed, stream, record)``, so the same record is dirty in the same way in every
world of that seed, whatever the clock. Defects are applied by the renderers, to the values as
served; the world's facts (who clicked, who bought) stay clean, and ``truth.dirty`` counts the
defects per stream.

A defect is *cleanable* when a deterministic rule recovers the true value (case, whitespace,
spellings, formats, empty strings as null, duplicates merged on the normalised email) and
*unrecoverable* when the value is lost (an invalid email, a missing amount): the warehouse should
quarantine those rows. mock_apis/README.md lists them.
"""

from enum import IntEnum

from testbench.mock_apis.rng import MASK64, key

DEFAULT_DIRTY_RATE = 0.02
# Of the records of HubSpot contacts, this share of ``dirty_rate`` is a second, duplicate record
# of the same person (an import that ran twice), on top of the per-record defects.
DUPLICATE_SHARE = 0.25
DUPLICATE_CONTACT_ID_BASE = 190_000_001


class Stream(IntEnum):
    LIST_MEMBERS = 1
    CONTACTS = 2
    COMPANIES = 3
    DEALS = 4


# Defect names, as ``truth.dirty`` reports them.
MIXED_CASE = "mixed_case"  # a name (or a member's email) in ALL CAPS or all lower case
STRAY_WHITESPACE = "stray_whitespace"  # leading/trailing/double spaces in a name
COUNTRY_SPELLING = "country_spelling"  # "USA", "United States", "us" for "US"
INDUSTRY_SPELLING = "industry_spelling"  # "Computer Software" for "COMPUTER_SOFTWARE"
EMPTY_STRING = "empty_string"  # "" for a cleared field (contact phone, company domain)
AMOUNT_FORMAT = "amount_format"  # "1200.500", "1200.5000": a number stored at another precision
DUPLICATE_PERSON = "duplicate_person"  # the same person twice, email in another case/spacing
INVALID_EMAIL = "invalid_email"  # no @, a double dot, no domain suffix
MISSING_AMOUNT = "missing_amount"  # no amount on a deal (null)

CLEANABLE = (
    MIXED_CASE, STRAY_WHITESPACE, COUNTRY_SPELLING, INDUSTRY_SPELLING, EMPTY_STRING,
    AMOUNT_FORMAT, DUPLICATE_PERSON,
)  # fmt: skip
UNRECOVERABLE = (INVALID_EMAIL, MISSING_AMOUNT)

# The defects each stream's records may carry (one each), in the order rolls pick them.
DEFECTS: dict[Stream, tuple[str, ...]] = {
    Stream.LIST_MEMBERS: (MIXED_CASE, STRAY_WHITESPACE),
    Stream.CONTACTS: (INVALID_EMAIL, MIXED_CASE, EMPTY_STRING, COUNTRY_SPELLING),
    Stream.COMPANIES: (INDUSTRY_SPELLING, COUNTRY_SPELLING, EMPTY_STRING, MIXED_CASE),
    Stream.DEALS: (AMOUNT_FORMAT, MISSING_AMOUNT),
}
US_SPELLINGS = ("USA", "United States", "us", "U.S.", "united states of america")

DIRTY_KIND = 13  # the random-stream domain of defects (see world.Kind)


def roll(seed: int, stream: Stream, record: int) -> int:
    """The record's 64-bit defect roll: the same in every world of the seed."""
    return key(seed, DIRTY_KIND, stream, record)


def defect(rate: float, seed: int, stream: Stream, record: int) -> str | None:
    """The one defect this record carries, or None for a clean record."""
    value = roll(seed, stream, record)
    if value >= rate * MASK64:
        return None
    choices = DEFECTS[stream]
    return choices[(value >> 8) % len(choices)]


def duplicate_stride(rate: float) -> int | None:
    """One contact in this many has a duplicate record (None: no duplicates)."""
    if rate <= 0:
        return None
    return max(2, round(1 / (rate * DUPLICATE_SHARE)))


def mixed_case(text: str, value: int) -> str:
    return text.upper() if value & 1 else text.lower()


def stray_whitespace(text: str, value: int) -> str:
    return (" ", "  ", "")[value % 3] + text.replace(" ", "  ") + (" ", "", "  ")[value % 3]


def country(code: str, value: int) -> str:
    if code == "US":
        return US_SPELLINGS[value % len(US_SPELLINGS)]
    return (code.lower(), f" {code}", f"{code} ")[value % 3]


def industry(name: str, value: int) -> str:
    words = name.replace("_", " ").lower()
    return (words.title(), words, name.replace("_", "-"))[value % 3]


def amount(cents: int, value: int) -> str:
    """A deal's amount as an import or an integration stored it: still a number (HubSpot's
    ``amount`` is a number property, which refuses text such as "$950"), at another precision
    than the two decimals the mock serves otherwise. Typed money formats are the spend sheet's."""
    return f"{cents / 100:.{3 + value % 3}f}"


def invalid_email(email: str, value: int) -> str:
    local, _, domain = email.partition("@")
    return (
        f"{local}{domain}",  # the @ lost
        f"{local.replace('.', '..', 1) if '.' in local else local + '..'}@{domain}",  # a double dot
        f"{local}@{domain.rsplit('.', 1)[0]}",  # no domain suffix
    )[value % 3]


def duplicate_email(email: str, value: int) -> str:
    """The address as typed the second time: other case and stray spaces, still valid."""
    return (email.upper(), f" {email.title()}", f"{email} ", email.capitalize() + "  ")[value % 4]
