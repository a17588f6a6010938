"""A tiny, hand-written world for developing and testing the dbt project.

``write_dev_fixture(warehouse_path, lake_root)`` creates the raw tables exactly as docs/contracts.md
describes them (what destination-duckdb writes) and a silver lake (what the Spark job publishes),
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
  (won, she never clicked); d6 (won, no contact, empty amount).

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
import pyarrow.parquet as pq

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
        properties_lastmodifieddate VARCHAR, properties_hs_object_id VARCHAR""",
    "raw_hubspot.companies": """
        id VARCHAR, "createdAt" TIMESTAMPTZ, "updatedAt" TIMESTAMPTZ, archived BOOLEAN,
        properties_name VARCHAR, properties_domain VARCHAR, properties_industry VARCHAR,
        properties_createdate VARCHAR, properties_hs_lastmodifieddate VARCHAR,
        properties_hs_object_id VARCHAR""",
    "raw_hubspot.deals": """
        id VARCHAR, "createdAt" TIMESTAMPTZ, "updatedAt" TIMESTAMPTZ, archived BOOLEAN,
        properties_dealname VARCHAR, properties_amount VARCHAR, properties_dealstage VARCHAR,
        properties_pipeline VARCHAR, properties_closedate VARCHAR, properties_createdate VARCHAR,
        properties_hs_lastmodifieddate VARCHAR, properties_hs_object_id VARCHAR,
        properties_hs_is_closed_won VARCHAR, contacts JSON, companies JSON""",
}


def subscriber_hash(email: str) -> str:
    """MailChimp's member id and email_id: md5 of the lowercased address."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (audience, email as typed, first name, last name, full name)
MEMBERS = [
    ("aud1", "Ada@Example.com ", "Ada", " Lovelace ", "Ada Lovelace"),
    ("aud1", " bob@example.com", "", "", ""),
    ("aud1", "cyd@example.com", "Cyd", "", "Cyd"),
    ("aud1", "DEE@example.com", "Dee", "Dee", "Dee Dee"),
    ("aud2", "ada@example.COM", "Ada", "Lovelace", "Ada Lovelace"),
]

# (id, status, emails sent, send time or None, title, subject)
CAMPAIGNS = [
    ("c1", "sent", 4, "2024-03-01 09:00:00", "March newsletter", "Spring is here"),
    ("c2", "sent", 4, "2024-03-15 09:00:00", "Mid-March offer", "20% off"),
    ("c3", "sent", 0, "2024-03-20 09:00:00", "Empty segment", "Nobody reads this"),
    ("c4", "save", 0, None, "Draft", "Not sent yet"),
]

# (id, email as typed, first name, last name)
CONTACTS = [
    ("101", "  ADA@example.com", "Ada", "Lovelace"),
    ("102", "bob@EXAMPLE.com ", "", None),
    ("103", "cyd@example.com", "Cyd", "Cee"),
    ("104", "eve@example.com", "Eve", "Ee"),
    ("105", "", None, None),
]

COMPANIES = [("201", "Analytical Engines", "Engines.example "), ("202", "Difference Ltd", "")]

# (id, created at as HubSpot sends it, amount, is closed won, contact ids, company ids)
DEALS = [
    ("d1", "2024-03-05T10:00:00.000Z", "1000.50", "true", ["101"], ["201"]),
    ("d2", "2024-03-31T10:00:00.000Z", "2000", "true", ["101", "103"], ["201"]),
    ("d3", "2024-04-01T08:00:00.001Z", "500.00", "true", ["102"], []),
    ("d4", "2024-03-10T09:00:00.000Z", "750", "false", ["103"], ["202"]),
    ("d5", "2024-03-12T09:00:00.000Z", "300", "true", ["104"], []),
    ("d6", "2024-03-12T09:00:00.000Z", "", "true", [], []),
]

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

# The silver lake's file schema; event_date is not in the files but in the partition directories.
SILVER_SCHEMA = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("list_id", pa.string()),
        ("email_id", pa.string()),
        ("email_address", pa.string()),
        ("action", pa.string()),
        ("bounce_type", pa.string()),
        ("url", pa.string()),
        ("ip", pa.string()),
        ("event_at", pa.timestamp("us", tz="UTC")),
    ]
)


def write_dev_fixture(warehouse_path: Path, lake_root: Path) -> None:
    """Create the raw schemas in a new DuckDB file and the silver lake under ``lake_root``."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute("set TimeZone = 'UTC'")
        _write_raw_tables(con)
    _write_silver_lake(lake_root)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    # Every raw row ends with the Airbyte meta columns.
    rows = [(*row, f"{table}-{index}", EXTRACTED_AT, "{}") for index, row in enumerate(rows)]
    placeholders = ", ".join(["?"] * len(rows[0]))
    con.executemany(f"insert into {table} values ({placeholders})", rows)


def _write_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    for schema in ("raw_mailchimp", "raw_hubspot"):
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
    _insert(
        con,
        "raw_mailchimp.list_members",
        [
            (
                subscriber_hash(email),
                email,
                f"u{index}",
                f"mc{index}",
                full_name,
                index,
                "html",
                "subscribed",
                json.dumps({"FNAME": first, "LNAME": last}),
                json.dumps({"avg_open_rate": 0.5}),
                "",
                None,  # empty date-times load as NULL
                "2023-06-01 12:00:00+00",
                2,
                f"2024-02-0{index + 1} 12:00:00+00",
                "en",
                False,
                json.dumps({"country_code": "GB"}),
                "API - Generic",
                0,
                "[]",
                audience,
            )
            for index, (audience, email, first, last, full_name) in enumerate(MEMBERS)
        ],
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

    created, updated = "2024-01-10 08:00:00+00", "2024-04-01 08:00:00+00"
    _insert(
        con,
        "raw_hubspot.contacts",
        [
            (
                contact,
                created,
                updated,
                False,
                email,
                first,
                last,
                "lead",
                "2024-01-10T08:00:00.000Z",
                "2024-04-01T08:00:00.000Z",
                contact,
            )
            for contact, email, first, last in CONTACTS
        ],
    )
    _insert(
        con,
        "raw_hubspot.companies",
        [
            (
                company,
                created,
                updated,
                False,
                name,
                domain,
                "",
                "2024-01-10T08:00:00.000Z",
                "2024-04-01T08:00:00.000Z",
                company,
            )
            for company, name, domain in COMPANIES
        ],
    )
    _insert(
        con,
        "raw_hubspot.deals",
        [
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
            for deal, created_at, amount, won, contacts, companies in DEALS
        ],
    )


def _write_silver_lake(lake_root: Path) -> None:
    rows = [
        {
            "campaign_id": campaign,
            "list_id": audience,
            "email_id": subscriber_hash(email),
            "email_address": email,
            "action": action,
            "bounce_type": bounce_type,
            "url": "https://example.com/offer" if action == "click" else None,
            "ip": "192.0.2.1",
            "event_at": _utc(event_at),
        }
        for campaign, audience, email, action, bounce_type, event_at in EMAIL_EVENTS
    ]
    days = sorted({row["event_at"].date() for row in rows})
    for day in days:
        partition = lake_root / "silver" / "email_activity" / f"event_date={day.isoformat()}"
        partition.mkdir(parents=True, exist_ok=True)
        day_rows = [row for row in rows if row["event_at"].date() == day]
        table = pa.Table.from_pylist(day_rows, schema=SILVER_SCHEMA)
        pq.write_table(table, partition / "part.parquet")
