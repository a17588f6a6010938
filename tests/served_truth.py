"""What the mock served (its ground truth) and the checks a whole run's warehouse must pass against
it, shared by the end-to-end tests of `make run`/`make up` and of `make cluster`."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson

from pipeline.executables import console_script

# Each raw table with its key, and the truth's count of its records.
RAW_TABLES = {
    "raw_mailchimp.list_members": ("id, list_id", "list_members"),
    "raw_mailchimp.campaigns": ("id", "campaigns"),
    "raw_hubspot.contacts": ("id", "contacts"),
    "raw_hubspot.deals": ("id", "deals"),
}


def served_truth(seed: int, scale: int) -> dict[str, Any]:
    """`mock-apis truth` of the world ``seed`` at ``scale``: what a run must end up with."""
    done = subprocess.run(
        [console_script("mock-apis"), "truth", "--seed", str(seed), "--scale", str(scale)],
        capture_output=True,
        check=True,
    )
    return orjson.loads(done.stdout)


def assert_every_raw_record_once(warehouse: Path, truth: dict[str, Any]) -> None:
    """Every record the mock served is in its raw table exactly once (none lost, none twice)."""
    counts = truth["counts"]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for table, (key, name) in RAW_TABLES.items():
            found = connection.execute(
                f"select count(*), count(distinct ({key})) from {table}"
            ).fetchone()
            assert found == (counts[name], counts[name]), (table, found, counts[name])


def campaign_performance_differences(
    rows: dict[str, dict[str, Any]], truth: dict[str, Any]
) -> list[str]:
    """Where campaign_performance (rows by campaign id, as column -> value) differs from the
    campaigns the mock sent: one line each; none when the mart is right."""
    expected = {campaign["campaign_id"]: campaign for campaign in truth["campaigns"]}
    if set(rows) != set(expected):
        return [f"campaigns {sorted(set(rows) ^ set(expected))} are not in both"]
    differences = []
    for campaign_id, campaign in expected.items():
        row = rows[campaign_id]
        pairs = {
            "recipients": "emails_sent",
            "opens": "opens",
            "unique_opens": "unique_opens",
            "clicks": "clicks",
            "unique_clicks": "unique_clicks",
            "won_deals": "won_deals",
        }
        for column, truth_name in pairs.items():
            if row[column] != campaign[truth_name]:
                differences.append(
                    f"{campaign_id} {column}: {row[column]} != {campaign[truth_name]}"
                )
        if Decimal(str(row["won_revenue"])) != Decimal(str(campaign["won_revenue"])):
            differences.append(f"{campaign_id} won_revenue: {row['won_revenue']}")
    return differences
