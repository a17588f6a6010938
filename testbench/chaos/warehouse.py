"""The warehouse against the mock's truth: which keys are lost, which are there twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

# The primary key of every stream each source syncs into the warehouse (raw_<source>.<stream>).
STREAM_KEYS: dict[str, dict[str, list[str]]] = {
    "mailchimp": {
        "lists": ["id"],
        "list_members": ["id", "list_id"],
        "segments": ["id", "list_id"],
        "tags": ["id", "list_id"],
        "campaigns": ["id"],
        "reports": ["id"],
        "email_activity": ["campaign_id", "email_id", "action", "timestamp"],
        "unsubscribes": ["campaign_id", "email_id"],
    },
    "hubspot": {
        "contacts": ["id"],
        "companies": ["id"],
        "deals": ["id"],
        "owners": ["id"],
        "deal_pipelines": ["id"],
        "email_events": ["id"],
    },
}


@dataclass
class Comparison:
    """Keys the truth has and the warehouse lacks, rows sharing a key, keys nobody served."""

    lost: int = 0
    duplicates: int = 0
    unexpected: int = 0
    per_stream: dict[str, str] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not (self.lost or self.duplicates or self.unexpected)

    def add(self, other: Comparison) -> None:
        self.lost += other.lost
        self.duplicates += other.duplicates
        self.unexpected += other.unexpected
        self.per_stream.update(other.per_stream)


def compare(warehouse: Path, source: str, truth: dict[str, Any]) -> Comparison:
    """Every stream of ``source`` in ``raw_<source>`` against the truth's keys."""
    result = Comparison()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for stream, key in STREAM_KEYS[source].items():
            columns = ", ".join(f'"{c}"::VARCHAR' for c in key)
            try:
                rows = con.execute(f"select {columns} from raw_{source}.{stream}").fetchall()
            except duckdb.CatalogException:
                rows = []  # never loaded: every key is lost
            actual = {tuple(_as_truth_text(v) for v in row) for row in rows}
            expected = {
                tuple(str(v) for v in (k if isinstance(k, list) else [k]))
                for k in truth["keys"][stream]
            }
            lost, extra = len(expected - actual), len(actual - expected)
            duplicates = len(rows) - len(set(rows))
            result.lost += lost
            result.unexpected += extra
            result.duplicates += duplicates
            if lost or extra or duplicates:
                result.per_stream[stream] = f"{lost} lost, {duplicates} dup, {extra} unexpected"
    return result


def _as_truth_text(value: str | None) -> str | None:
    """DuckDB prints a TIMESTAMPTZ key as ``2026-01-01 10:00:00+00``; the truth as the API did."""
    if value is not None and len(value) >= 22 and value[10] == " " and value.endswith("+00"):
        return f"{value[:10]}T{value[11:19]}+00:00"
    return value


def duplicate_keys(warehouse: Path, table: str, key: list[str]) -> int:
    """Rows beyond the first per key in ``table`` (a staging model or a mart)."""
    columns = ", ".join(f'"{c}"' for c in key)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            f"select coalesce(sum(n - 1), 0) from "
            f"(select count(*) as n from {table} group by {columns})"
        ).fetchone()[0]
