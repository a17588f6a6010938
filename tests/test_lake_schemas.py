"""The silver schema has one owner, spark_jobs/schemas.py: the page people read must say the same.

docs/contracts.md lists silver's columns in words for whoever reads the lake; this test fails when
the page and the owner drift apart. (tests/test_spark_jobs.py holds Spark's files to the owner.)
"""

from __future__ import annotations

import re
from pathlib import Path

from spark_jobs.schemas import GOLD_EMAIL_EVENTS, SILVER_EMAIL_ACTIVITY, column_names

CONTRACTS = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"


def contract_columns(table: str) -> list[str]:
    """The column names in the ``columns`` cell of ``table``'s row in docs/contracts.md, in order.

    The cell reads ``name (what it means, ...), name, ...``: a name is the first word of each
    comma-separated item outside parentheses.
    """
    rows = [
        line for line in CONTRACTS.read_text().splitlines() if line.startswith(f"| `{table}` |")
    ]
    assert len(rows) == 1, f"docs/contracts.md: expected one row for `{table}`, found {len(rows)}"
    cell = rows[0].strip().strip("|").split("|")[-1]
    top_level = re.sub(r"\([^()]*\)", "", re.sub(r"\([^()]*\)", "", cell))  # nested once at most
    return [item.split()[0] for item in top_level.split(",") if item.strip()]


def test_contracts_page_lists_silvers_columns_as_its_owner_does() -> None:
    assert contract_columns("silver/email_activity") == column_names(SILVER_EMAIL_ACTIVITY)


def test_gold_email_events_is_silver_and_its_session() -> None:
    assert column_names(GOLD_EMAIL_EVENTS) == [*column_names(SILVER_EMAIL_ACTIVITY), "session_id"]
