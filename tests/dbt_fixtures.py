"""A tiny, hand-written world for developing and testing the dbt project.

``write_dev_fixture(warehouse_path, lake_root)`` creates the raw tables exactly as docs/contracts.md
describes them (what destination-duckdb writes) and the lake's gold tables that dbt reads (what the
Spark jobs publish: email_events, and campaign_engagement counted from them),
from a handful of rows small enough to compute the marts by hand. The rows carry the mess of the
real sources: emails in mixed case with stray spaces, missing names, empty strings, a draft.

The story, in March-April 2024 (UTC), with a 30-day attribution window:

- Audience ``aud1`` has Ada, Bob, Cyd and Dee; Ada is also in audience ``aud2``.
- Campaign ``c1`` (sent 1 March to 4 people): Ada opens twice and clicks twice (first click
  1 March 10:00), Bob opens once and clicks twice (first click 2 March 08:00), Cyd opens and clicks
  once, Dee's email hard-bounces.
- Campaign ``c2`` (sent 15 March to 4 people): Ada opens and clicks (15 March 12:00), Bob opens,
  Dee soft-bounces.
- Campaign ``c3`` was sent to an empty segment (0 emails, no events); ``c4`` is a draft.
- Deals, by primary contact: Ada's d1 (won, 1000.50, created 5 March: inside c1's window, before
  her c2 click) and d2 (won, 2000.00, created 31 March 10:00: exactly 30 days after her first c1
  click, 16 days after her c2 click); Bob's d3 (won, 500.00, 1 ms more than 30 days after his first
  c1 click, though within 30 days of his second); Cyd's d4 (lost, inside the window); Eve's d5
  (won, "300.00 USD", she never clicked); Eve's d7 (won, "1,200.00");
  Bob's d8 (open, "$950", 8 days after his first c1 click: pipeline, not revenue).
- Membership: Ada joins aud1 in January, Bob and Cyd in February, Dee on 1 March, Ada joins aud2
  on 10 March; Cyd unsubscribes on 5 March (after c1, before c2), Dee is cleaned on 2 March.
- HubSpot lifecycle stages, by create month: January: Ada customer, Bob opportunity, Cyd marketing
  qualified lead; February: Eve customer, contact 105 lead.

Dirty data as the mock makes it, dirty rate above 0 (testbench/mock_apis/README.md): stale versions
of a member, a contact, a company and a deal (an incremental sync appends; staging keeps the latest
by cursor); spellings to make canonical ("Opportunity ", "Marketing Qualified Lead", "Computer
Software", "United Kingdom", "uk", "U.S.A.", names in one case); amounts as strings with separators
and signs; and rows that cannot be cleaned and must be quarantined, not dropped: member "broken@"
(invalid email), contact 106 (invalid email: two dots in a row), a contact and a deal without an
id, deal d6 (no amount: the mock's missing_amount) and d9 (amount "abc").

The expected ``marts.campaign_performance``, with the working, is in tests/test_dbt_project.py.
The raw ``email_activity`` table is not created: dbt reads email events from the lake only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from spark_jobs.schemas import GOLD_EMAIL_EVENTS, SILVER_EMAIL_ACTIVITY, arrow_schema

# What destination-duckdb adds to every raw table.
AIRBYTE_COLUMNS = "_airbyte_raw_id VARCHAR, _airbyte_extracted_at TIMESTAMPTZ, _airbyte_meta JSON"
EXTRACTED_AT = "2024-04-15 06:00:00+00"

RAW_TABLES = {
    "raw_mailchimp.lists": """
        id VARCHAR, web_id BIGINT, name VARCHAR, date_created TIMESTAMPTZ, list_rating BIGINT,
        visibility VARCHAR, double_optin BOOLEAN, contact JSON, campaign_defaults JSON,
        stats JSON""",
    "raw_mailchimp.list_members": """
        id VARCHAR, email_address VARCHAR, unique_email_id VARCHAR, contact_id VARCHAR,
        full_name VARCHAR, web_id BIGINT, email_type VARCHAR, status VARCHAR, merge_fields JSON,
        stats JSON, ip_signup VARCHAR, timestamp_signup TIMESTAMPTZ, timestamp_opt TIMESTAMPTZ,
        member_rating BIGINT, last_changed TIMESTAMPTZ, language VARCHAR, vip BOOLEAN,
        location JSON, source VARCHAR, tags_count BIGINT, tags JSON, list_id VARCHAR""",
    "raw_mailchimp.campaigns": """
        id VARCHAR, web_id BIGINT, type VARCHAR, create_time TIMESTAMPTZ, archive_url VARCHAR,
        status VARCHAR, emails_sent BIGINT, send_time TIMESTAMPTZ, content_type VARCHAR,
        recipients JSON, settings JSON, tracking JSON, report_summary JSON""",
    # HubSpot sends every property as a string (or null), whatever its type.
    "raw_hubspot.contacts": """
        id VARCHAR, "createdAt" TIMESTAMPTZ, "updatedAt" TIMESTAMPTZ, archived BOOLEAN,
        properties_email VARCHAR, properties_firstname VARCHAR, properties_lastname VARCHAR,
        properties_lifecyclestage VARCHAR, properties_createdate VARCHAR,
        properties_lastmodifieddate VARCHAR, properties_hs_object_id VARCHAR,
        properties_country VARCHAR""",
    "raw_hubspot.companies": """
        id VARCHAR, "createdAt" TIMESTAMPTZ, "updatedAt" TIMESTAMPTZ, archived BOOLEAN,
        properties_name VARCHAR, properties_domain VARCHAR, properties_industry VARCHAR,
        properties_createdate VARCHAR, properties_hs_lastmodifieddate VARCHAR,
        properties_hs_object_id VARCHAR, properties_country VARCHAR""",
    "raw_hubspot.deals": """
        id VARCHAR, "createdAt" TIMESTAMPTZ, "updatedAt" TIMESTAMPTZ, archived BOOLEAN,
        properties_dealname VARCHAR, properties_amount VARCHAR, properties_dealstage VARCHAR,
        properties_pipeline VARCHAR, properties_closedate VARCHAR, properties_createdate VARCHAR,
        properties_hs_lastmodifieddate VARCHAR, properties_hs_object_id VARCHAR,
        properties_hs_is_closed_won VARCHAR, contacts JSON, companies JSON""",
    # The marketing spreadsheet's tabs: every cell a string, as typed.
    "raw_google_sheets.campaign_spend": """
        row_number BIGINT, campaign VARCHAR, channel VARCHAR, month VARCHAR, amount VARCHAR,
        currency VARCHAR, owner VARCHAR, notes VARCHAR""",
    "raw_google_sheets.pipeline_targets": """
        row_number BIGINT, audience VARCHAR, quarter VARCHAR, target_pipeline_usd VARCHAR,
        owner VARCHAR""",
}

# (row number, campaign as typed, channel, month, amount, currency): c1 costs $1,000 + 500 EUR
# ($540), c2 £100 ($127) typed twice; then a header typed again, a typo, an amount not yet known.
CAMPAIGN_SPEND = [
    (3, "March newsletter", "Email", "2024-03", "$1,000.00", ""),
    (4, "march  newsletter ", "LinkedIn Ads", "2024-03", "500,00", "EUR"),
    (5, "Mid-March offer", "Email", "2024-03", "£100", ""),
    (6, "Mid-March offer", "Email", "2024-03", "£100", ""),
    (7, "Campaign", "Channel", "Month", "Spend (net)", "Currency"),
    (8, "Mid-March ofer", "Email", "2024-03", "$50", ""),
    (9, "Empty segment", "Email", "2024-03", "TBD", ""),
]
# (row number, audience, quarter, target as typed)
PIPELINE_TARGETS = [(2, "Newsletter", "Q1 2024", "$10,000"), (3, "Newsletter", "Q2 2024", "5000")]


def subscriber_hash(email: str) -> str:
    """MailChimp's member id and email_id: md5 of the lowercased address."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (audience, email as typed, first name, last name, full name, status, opted in, last changed)
MEMBERS = [
    ("aud1", "Ada@Example.com ", "Ada", " Lovelace ", "Ada Lovelace", "subscribed",
     "2024-01-15", "2024-02-01"),
    ("aud1", " bob@example.com", "", "", "", "subscribed", "2024-02-10", "2024-02-10"),
    ("aud1", "cyd@example.com", "Cyd", "", "Cyd", "Unsubscribed ", "2024-02-20", "2024-03-05"),
    ("aud1", "DEE@example.com", "dee", "DEE", "Dee Dee", "cleaned", "2024-03-01", "2024-03-02"),
    ("aud2", "ada@example.COM", "Ada", "Lovelace", "Ada Lovelace", "subscribed",
     "2024-03-10", "2024-03-10"),
    # dirty: not an address; quarantined, not dropped
    ("aud1", "broken@", "Bro", "Ken", "Bro Ken", "subscribed", "2024-01-02", "2024-01-02"),
]  # fmt: skip
# dirty: an older version of Ada's aud1 membership (an incremental sync appended the newer one)
STALE_MEMBERS = [
    ("aud1", "Ada@Example.com ", "Old", "Name", "Old Name", "pending", "2024-01-15", "2024-01-20"),
]

# (id, status, emails sent, send time or None, title, subject)
CAMPAIGNS = [
    ("c1", "sent", 4, "2024-03-01 09:00:00", "March newsletter", "Spring is here"),
    ("c2", "sent", 4, "2024-03-15 09:00:00", "Mid-March offer", "20% off"),
    ("c3", "sent", 0, "2024-03-20 09:00:00", "Empty segment", "Nobody reads this"),
    ("c4", "save", 0, None, "Draft", "Not sent yet"),
]

# (id, email as typed, first name, last name, lifecycle stage, create date, country)
CONTACTS = [
    ("101", "  ADA@example.com", "Ada", "Lovelace", "customer", "2024-01-10", "United Kingdom"),
    ("102", "bob@EXAMPLE.com ", "", None, "Opportunity ", "2024-01-20", "uk"),
    ("103", "cyd@example.com", "cyd", "CEE", "Marketing Qualified Lead", "2024-01-25", "GB"),
    ("104", "eve@example.com", "Eve", "Ee", "customer", "2024-02-03", "U.S.A."),
    ("105", "", None, None, "lead", "2024-02-14", ""),
    # dirty: an unusable email, and a row without its key; both quarantined
    ("106", "zed..zee@example.com", "Zed", "Zee", "lead", "2024-02-15", "GB"),
    (None, "nokey@example.com", "No", "Key", "lead", "2024-02-16", "GB"),
]
# dirty: an older version of Bob's contact, with an address he no longer uses
STALE_CONTACTS = [("102", "old-bob@example.com", "Bob", None, "lead", "2024-01-20", "GB")]

# (id, name, domain, industry as typed, country as typed)
COMPANIES = [
    ("201", "Analytical Engines", "Engines.example ", "Computer Software", "England"),
    ("202", "Difference Ltd", "", "COMPUTER_SOFTWARE", "gb"),
]
STALE_COMPANIES = [("202", "Old Difference", "", "computer-software", "GB")]

# (id, created at as HubSpot sends it, amount, is closed won, contact ids, company ids)
DEALS = [
    ("d1", "2024-03-05T10:00:00.000Z", "1000.50", "true", ["101"], ["201"]),
    ("d2", "2024-03-31T10:00:00.000Z", "2000", "true", ["101", "103"], ["201"]),
    ("d3", "2024-04-01T08:00:00.001Z", "500.00", "true", ["102"], []),
    ("d4", "2024-03-10T09:00:00.000Z", "750", "false", ["103"], ["202"]),
    ("d5", "2024-03-12T09:00:00.000Z", "300.00 USD", "true", ["104"], []),
    # dirty amounts that can be read: thousands separator, currency sign
    ("d7", "2024-03-20T09:00:00.000Z", "1,200.00", "true", ["104"], ["202"]),
    ("d8", "2024-03-10T09:00:00.000Z", "$950", "false", ["102"], []),
    # dirty: a missing amount, an amount that cannot be read, a deal without its key; quarantined
    ("d6", "2024-03-12T09:00:00.000Z", "", "true", [], []),
    ("d9", "2024-03-06T09:00:00.000Z", "abc", "true", ["101"], ["201"]),
    (None, "2024-03-06T09:00:00.000Z", "10", "true", ["101"], []),
]
# dirty: an older version of d4, when it was still marked won at another amount
STALE_DEALS = [("d4", "2024-03-10T09:00:00.000Z", "10", "true", ["103"], ["202"])]

# (campaign, audience, email as MailChimp reports it, action, bounce type, event time UTC)
EMAIL_EVENTS = [
    ("c1", "aud1", "Ada@Example.com", "open", None, "2024-03-01 09:30:00"),
    ("c1", "aud1", "Ada@Example.com", "open", None, "2024-03-01 09:45:00"),
    ("c1", "aud1", "Ada@Example.com", "click", None, "2024-03-01 10:00:00"),
    ("c1", "aud1", "Ada@Example.com", "click", None, "2024-03-01 10:05:00"),
    ("c1", "aud1", "bob@example.com", "open", None, "2024-03-02 07:59:00"),
    ("c1", "aud1", "bob@example.com", "click", None, "2024-03-02 08:00:00"),
    ("c1", "aud1", "bob@example.com", "click", None, "2024-03-03 09:00:00"),
    ("c1", "aud1", "cyd@example.com", "open", None, "2024-03-01 11:00:00"),
    ("c1", "aud1", "cyd@example.com", "click", None, "2024-03-01 11:01:00"),
    ("c1", "aud1", "DEE@example.com", "bounce", "hard", "2024-03-01 09:01:00"),
    ("c2", "aud1", "Ada@Example.com", "open", None, "2024-03-15 11:00:00"),
    ("c2", "aud1", "Ada@Example.com", "click", None, "2024-03-15 12:00:00"),
    ("c2", "aud1", "bob@example.com", "open", None, "2024-03-16 08:00:00"),
    ("c2", "aud1", "DEE@example.com", "bounce", "soft", "2024-03-15 09:01:00"),
]

# The silver lake's file schema (what the lake's quality checks read), from its owner; event_date
# is not in the files but in the partition directories.
SILVER_SCHEMA = arrow_schema(SILVER_EMAIL_ACTIVITY)
# Gold email_events, what dbt reads: silver's columns and the event's session.
EMAIL_EVENTS_SCHEMA = arrow_schema(GOLD_EMAIL_EVENTS)
CAMPAIGN_ENGAGEMENT_SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("opens", pa.int64()),
        ("unique_openers", pa.int64()),
        ("clicks", pa.int64()),
        ("unique_clickers", pa.int64()),
        ("bounces", pa.int64()),
        ("first_event_at", pa.timestamp("us", tz="UTC")),
        ("last_event_at", pa.timestamp("us", tz="UTC")),
    ]
)


PERSON_ENGAGEMENT_SCHEMA = pa.schema(
    [
        ("email_id", pa.string()),
        ("email_address", pa.string()),
        ("first_event_at", pa.timestamp("us", tz="UTC")),
        ("last_engaged_at", pa.timestamp("us", tz="UTC")),
        ("recency_days", pa.int32()),
        ("frequency_30d", pa.int64()),
        ("frequency_90d", pa.int64()),
        ("opens_90d", pa.int64()),
        ("clicks_90d", pa.int64()),
        ("bounces_90d", pa.int64()),
        ("engagement_score", pa.float64()),
        ("as_of_date", pa.date32()),
    ]
)
PERSON_SESSIONS_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("email_id", pa.string()),
        ("session_start_at", pa.timestamp("us", tz="UTC")),
        ("session_end_at", pa.timestamp("us", tz="UTC")),
        ("duration_seconds", pa.int64()),
        ("events", pa.int64()),
        ("opens", pa.int64()),
        ("clicks", pa.int64()),
        ("campaigns", pa.int64()),
        ("session_date", pa.date32()),
    ]
)
# What the Spark jobs would publish for these people, as given figures (the Spark tests check how
# they are computed; here dbt only carries them to dim_people): (email as the lake saw it last,
# engagement score, opens + clicks in 90 days, sessions). The email is messy on purpose: dbt
# joins on the normalized email. Dee only bounced: a score of 0 and no session.
PERSON_ENGAGEMENT = [
    (" Ada@Example.com", 81.5, 6, 3),
    ("bob@example.com", 42.0, 3, 1),
    ("DEE@example.com", 0.0, 0, 0),
]


def write_dev_fixture(warehouse_path: Path, lake_root: Path) -> None:
    """Create the raw schemas in a new DuckDB file and the silver lake under ``lake_root``."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute("set TimeZone = 'UTC'")
        _write_raw_tables(con)
    _write_gold_lake(lake_root)


# Stale versions were extracted by an earlier sync, and last changed before the current ones.
STALE_EXTRACTED_AT = "2024-04-01 06:00:00+00"
UPDATED_AT, STALE_UPDATED_AT = "2024-04-01 08:00:00+00", "2024-03-01 08:00:00+00"
CREATED_AT = "2024-01-10 08:00:00+00"


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: list[tuple],
    extracted_at: str = EXTRACTED_AT,
    batch: str = "",
) -> None:
    # Every raw row ends with the Airbyte meta columns.
    rows = [(*row, f"{table}-{batch}{index}", extracted_at, "{}") for index, row in enumerate(rows)]
    placeholders = ", ".join(["?"] * len(rows[0]))
    con.executemany(f"insert into {table} values ({placeholders})", rows)


def _insert_versions(
    con: duckdb.DuckDBPyConnection, table: str, current: list[tuple], stale: list[tuple]
) -> None:
    """The current rows, and older versions of some, as an earlier incremental sync left them."""
    _insert(con, table, current)
    _insert(con, table, stale, extracted_at=STALE_EXTRACTED_AT, batch="stale-")


def _member_rows(members: list[tuple]) -> list[tuple]:
    return [
        (
            subscriber_hash(email),
            email,
            f"u{index}",
            f"mc{index}",
            full_name,
            index,
            "html",
            status,
            json.dumps({"FNAME": first, "LNAME": last}),
            json.dumps({"avg_open_rate": 0.5}),
            "",
            None,  # empty date-times load as NULL
            f"{opted_in} 12:00:00+00",
            2,
            f"{last_changed} 12:00:00+00",
            "en",
            False,
            json.dumps({"country_code": "GB"}),
            "API - Generic",
            0,
            "[]",
            audience,
        )
        for index, (audience, email, first, last, full_name, status, opted_in, last_changed) in (
            enumerate(members)
        )
    ]


def _contact_rows(contacts: list[tuple], updated: str) -> list[tuple]:
    return [
        (
            contact,
            CREATED_AT,
            updated,
            False,
            email,
            first,
            last,
            stage,
            f"{created}T08:00:00.000Z",
            "2024-04-01T08:00:00.000Z",
            contact,
            country,
        )
        for contact, email, first, last, stage, created, country in contacts
    ]


def _company_rows(companies: list[tuple], updated: str) -> list[tuple]:
    return [
        (
            company,
            CREATED_AT,
            updated,
            False,
            name,
            domain,
            industry,
            "2024-01-10T08:00:00.000Z",
            "2024-04-01T08:00:00.000Z",
            company,
            country,
        )
        for company, name, domain, industry, country in companies
    ]


def _deal_rows(deals: list[tuple], updated: str) -> list[tuple]:
    return [
        (
            deal,
            created_at,
            updated,
            False,
            f"Deal {deal}",
            amount,
            "closedwon" if won == "true" else "closedlost",
            "default",
            "2024-04-10T00:00:00.000Z",
            created_at,
            "2024-04-10T00:00:00.000Z",
            deal,
            won,
            json.dumps(contacts),
            json.dumps(companies),
        )
        for deal, created_at, amount, won, contacts, companies in deals
    ]


def _write_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    for schema in ("raw_mailchimp", "raw_hubspot", "raw_google_sheets"):
        con.execute(f"create schema {schema}")
    for table, columns in RAW_TABLES.items():
        con.execute(f"create table {table} ({columns}, {AIRBYTE_COLUMNS})")

    _insert(
        con,
        "raw_mailchimp.lists",
        [
            (
                audience,
                index,
                name,
                "2023-01-01 00:00:00+00",
                3,
                "pub",
                False,
                json.dumps({"company": "Example Inc."}),
                json.dumps({"from_name": "Example", "from_email": " News@Example.com"}),
                json.dumps({"member_count": count}),
            )
            for index, (audience, name, count) in enumerate(
                [("aud1", "Newsletter", 4), ("aud2", " Customers ", 1)]
            )
        ],
    )
    _insert_versions(
        con, "raw_mailchimp.list_members", _member_rows(MEMBERS), _member_rows(STALE_MEMBERS)
    )
    _insert(
        con,
        "raw_mailchimp.campaigns",
        [
            (
                campaign,
                index,
                "regular",
                "2024-02-20 12:00:00+00",
                "",
                status,
                sent,
                f"{send_time}+00" if send_time else None,
                "template",
                json.dumps({"list_id": "aud1", "recipient_count": sent}),
                json.dumps({"title": title, "subject_line": subject, "from_name": "Example"}),
                json.dumps({"opens": True, "html_clicks": True}),
                json.dumps({"opens": 0, "unique_opens": 0, "clicks": 0, "subscriber_clicks": 0}),
            )
            for index, (campaign, status, sent, send_time, title, subject) in enumerate(CAMPAIGNS)
        ],
    )
    for table, rows, stale, build in (
        ("raw_hubspot.contacts", CONTACTS, STALE_CONTACTS, _contact_rows),
        ("raw_hubspot.companies", COMPANIES, STALE_COMPANIES, _company_rows),
        ("raw_hubspot.deals", DEALS, STALE_DEALS, _deal_rows),
    ):
        _insert_versions(con, table, build(rows, UPDATED_AT), build(stale, STALE_UPDATED_AT))
    _insert(
        con,
        "raw_google_sheets.campaign_spend",
        [(*row, "Dana", "invoiced") for row in CAMPAIGN_SPEND],
    )
    _insert(con, "raw_google_sheets.pipeline_targets", [(*row, "Sam") for row in PIPELINE_TARGETS])


def email_event_row(
    campaign: str, audience: str, email: str, action: str, bounce_type: str | None, event_at: str
) -> dict:
    """One gold email_events row (the session id is a stand-in: dbt passes it through)."""
    at = _utc(event_at)
    return {
        "campaign_id": campaign,
        "list_id": audience,
        "email_id": subscriber_hash(email),
        "email_address": email,
        "action": action,
        "bounce_type": bounce_type,
        "url": "https://example.com/offer" if action == "click" else None,
        "ip": "192.0.2.1",
        "event_at": at,
        "first_ingest_date": at.date(),
        "is_late": False,
        "session_id": None if action == "bounce" else f"{subscriber_hash(email)}|{at:%Y-%m-%d}",
    }


def write_email_events(lake_root: Path, rows: list[dict]) -> None:
    """Rows appended to gold email_events, a Delta table partitioned by event date."""
    from deltalake import write_deltalake

    schema = EMAIL_EVENTS_SCHEMA.append(pa.field("event_date", pa.date32()))
    dated = [{**row, "event_date": row["event_at"].date()} for row in rows]
    table = pa.Table.from_pylist(dated, schema=schema)
    folder = lake_root / "gold" / "email_events"
    write_deltalake(str(folder), table, mode="append", partition_by=["event_date"])


def _write_gold_lake(lake_root: Path) -> None:
    rows = [email_event_row(*event) for event in EMAIL_EVENTS]
    write_email_events(lake_root, rows)
    engagement = []
    for campaign in sorted({row["campaign_id"] for row in rows}):
        events = [row for row in rows if row["campaign_id"] == campaign]

        def people(action: str, events: list[dict] = events) -> int:
            return len({row["email_id"] for row in events if row["action"] == action})

        def count(action: str, events: list[dict] = events) -> int:
            return sum(row["action"] == action for row in events)

        engagement.append(
            {
                "campaign_id": campaign,
                "opens": count("open"),
                "unique_openers": people("open"),
                "clicks": count("click"),
                "unique_clickers": people("click"),
                "bounces": count("bounce"),
                "first_event_at": min(row["event_at"] for row in events),
                "last_event_at": max(row["event_at"] for row in events),
            }
        )
    _write_gold_table(lake_root, "campaign_engagement", engagement, CAMPAIGN_ENGAGEMENT_SCHEMA)
    as_of = _utc("2024-03-31 00:00:00")
    people, sessions = [], []
    for email, score, frequency, session_count in PERSON_ENGAGEMENT:
        email_id = subscriber_hash(email.strip().lower())
        people.append(
            {
                "email_id": email_id,
                "email_address": email,
                "first_event_at": _utc("2024-03-01 09:01:00"),
                "last_engaged_at": _utc("2024-03-15 12:00:00") if frequency else None,
                "recency_days": 16 if frequency else None,
                "frequency_30d": frequency,
                "frequency_90d": frequency,
                "opens_90d": frequency,
                "clicks_90d": 0,
                "bounces_90d": 0 if frequency else 2,
                "engagement_score": score,
                "as_of_date": as_of.date(),
            }
        )
        for number in range(session_count):
            start = _utc(f"2024-03-{number + 1:02d} 10:00:00")
            sessions.append(
                {
                    "session_id": f"{email_id}|{number}",
                    "email_id": email_id,
                    "session_start_at": start,
                    "session_end_at": start,
                    "duration_seconds": 0,
                    "events": 1,
                    "opens": 1,
                    "clicks": 0,
                    "campaigns": 1,
                    "session_date": start.date(),
                }
            )
    _write_gold_table(lake_root, "person_engagement", people, PERSON_ENGAGEMENT_SCHEMA)
    _write_gold_table(lake_root, "person_sessions", sessions, PERSON_SESSIONS_SCHEMA)


def _write_gold_table(lake_root: Path, name: str, rows: list[dict], schema: pa.Schema) -> None:
    """An unpartitioned gold table, as a Delta table's first version."""
    from deltalake import write_deltalake

    folder = lake_root / "gold" / name
    write_deltalake(str(folder), pa.Table.from_pylist(rows, schema=schema))
