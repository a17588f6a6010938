"""The lake run, incrementally (spark_jobs/lake.py): only new bronze is read and merged.

The incremental tables are held to a full rebuild from the same bronze, table by table and row by
row: that is the promise (`pipeline lake --full-refresh` gives the same tables).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import test_spark_jobs as jobs_tests
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from spark_jobs import lake as lake_run
from spark_jobs.delta_io import LAKE_TABLES
from spark_jobs.lake import Lake

spark = jobs_tests.spark  # one JVM with test_spark_jobs
land = jobs_tests.land
event = jobs_tests.event

TABLES = LAKE_TABLES


def at(hour: int, minute: int, day: int = 1) -> str:
    return f"2024-01-{day:02d}T{hour:02d}:{minute:02d}:00+00:00"


def contents(root: Path, table: str) -> list[tuple]:
    rows = DeltaTable(str(root / table)).to_pyarrow_table().to_pylist()
    return sorted(tuple(sorted(row.items())) for row in rows)


def versions(root: Path) -> dict[str, int]:
    return {table: DeltaTable(str(root / table)).version() for table in TABLES}


def test_incremental_runs_read_only_new_bronze_and_equal_a_full_rebuild(
    spark: SparkSession, tmp_path: Path
) -> None:
    root = tmp_path / "incremental"
    # Day 1: e1 has two sessions (a 50-minute gap), e2 one; one record has no timestamp.
    day_one = [
        event("e1", 1, timestamp=at(12, 0)),
        event("e1", 1, timestamp=at(12, 50), action="click", url="https://x.test/a"),
        event("e2", 1, campaign_id="c2"),
        event("e9", 1, timestamp=None),
    ]
    land(root, "2024-01-01", day_one)
    first = lake_run.run(spark, Lake(root))
    assert first["rows_read"] == 4

    # Day 6: a re-extracted copy of e1's open (its ip changed), an open at 12:25 that joins e1's
    # two sessions into one, a late event of e4 on day 1, e5 on day 6, the same bad record again
    # and a record with an unknown action.
    day_six = [
        event("e1", 1, timestamp=at(12, 0), ip="10.0.0.9"),
        event("e1", 1, timestamp=at(12, 25)),
        event("e4", 1),
        event("e5", 6, campaign_id="c2"),
        event("e9", 1, timestamp=None),
        event("e3", 6, action="forward"),
    ]
    land(root, "2024-01-06", day_six)
    second = lake_run.run(spark, Lake(root))
    assert second["mode"] == "incremental"
    assert second["rows_read"] == len(day_six)  # day 1's files were not read again
    assert second["tables"]["silver/email_activity"]["inserted"] == 3  # e1 12:25, e4, e5
    assert second["tables"]["silver/email_activity"]["updated"] == 1  # e1's open, new ip
    assert second["tables"]["gold/person_sessions"]["deleted"] == 1  # e1's 12:50 session

    # Nothing new: the run reads nothing and no table gets a version.
    before = versions(root)
    idle = lake_run.run(spark, Lake(root))
    assert idle["batches"] == 0 and versions(root) == before

    # A full rebuild of a copy of the same bronze gives the same tables, row for row.
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(root / "bronze", rebuilt / "bronze")
    full = lake_run.run(spark, Lake(rebuilt), full_refresh=True)
    assert full["mode"] == "full_refresh" and full["rows_read"] == len(day_one) + len(day_six)
    for table in TABLES:
        assert contents(root, table) == contents(rebuilt, table), table

    # What the merged tables say, against what was landed.
    silver = {
        (r["email_id"], r["event_at"].isoformat()): r
        for r in DeltaTable(str(root / TABLES[0])).to_pyarrow_table().to_pylist()
    }
    opened = silver[("e1", "2024-01-01T12:00:00+00:00")]
    assert opened["ip"] == "10.0.0.9"  # the copy extracted last
    assert opened["first_ingest_date"] == dt.date(2024, 1, 1) and not opened["is_late"]
    assert silver[("e4", "2024-01-01T12:00:00+00:00")]["is_late"]  # first landed 5 days on
    assert len(silver) == 6
    quarantine = DeltaTable(str(root / TABLES[1])).to_pyarrow_table().to_pylist()
    assert sorted(r["reason"] for r in quarantine) == ["missing timestamp", "unknown action"]
    sessions = DeltaTable(str(root / "gold/person_sessions")).to_pyarrow_table().to_pylist()
    e1 = [s for s in sessions if s["email_id"] == "e1"]
    assert [(s["events"], s["duration_seconds"]) for s in e1] == [(3, 50 * 60)]
