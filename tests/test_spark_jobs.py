"""The lake's Spark jobs: pure transforms on tiny DataFrames, then ``main`` on a lake in tmp_path.

Bronze in the ``main`` tests is landed by destination-lake itself, so the jobs are held to the
files the connector really writes (docs/contracts.md, Lake).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer
from deltalake import DeltaTable
from destination_lake import DestinationLake
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.types import StructType
from pyspark.testing import assertDataFrameEqual

from spark_jobs import email_activity
from spark_jobs.delta_io import last_commit, read_published
from spark_jobs.email_activity import (
    BRONZE_SCHEMA,
    QUARANTINE_SCHEMA,
    SILVER_SCHEMA,
    quarantined,
    transform,
)
from spark_jobs.schemas import SILVER_EMAIL_ACTIVITY, arrow_schema
from spark_jobs.session import build_session

UTC = dt.UTC
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local session for the whole file: starting the JVM is the slowest part of these tests."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # Only the JVM's quick compiler: these tests are many tiny jobs, for which the optimizing
    # compiler costs more than it saves (about a third of this file's time on a 2-core machine).
    os.environ.setdefault(
        "PYSPARK_SUBMIT_ARGS", "--driver-java-options -XX:TieredStopAtLevel=1 pyspark-shell"
    )
    session = build_session("tests", "local[1]", shuffle_partitions=1)
    yield session
    session.stop()


# --- silver transform, on tiny DataFrames -----------------------------------------------------


def bronze_row(**overrides: object) -> dict[str, object]:
    """A valid bronze row: an open of c1 by e1 at 2024-01-01 23:30 UTC, ingested the 2nd."""
    row: dict[str, object] = {
        "campaign_id": "c1",
        "list_id": "l1",
        "list_is_active": True,
        "email_id": "e1",
        "email_address": "ann@example.com",
        "action": "open",
        "type": None,
        "timestamp": "2024-01-01T23:30:00+00:00",
        "url": None,
        "ip": "10.0.0.1",
        "_airbyte_raw_id": "r1",
        "_airbyte_extracted_at": dt.datetime(2024, 1, 2, 1, 0, tzinfo=UTC),
        "ingest_date": dt.date(2024, 1, 2),
    }
    row.update(overrides)
    return row


def bronze_df(spark: SparkSession, *rows: dict[str, object]) -> DataFrame:
    return spark.createDataFrame(
        [tuple(row[field.name] for field in BRONZE_SCHEMA) for row in rows], BRONZE_SCHEMA
    )


def test_transform_parses_types_renames_and_dates_events_in_utc(spark: SparkSession) -> None:
    bronze = bronze_df(
        spark,
        bronze_row(),
        bronze_row(_airbyte_raw_id="r2", action="bounce", type="hard", ip=None),
        bronze_row(_airbyte_raw_id="r3", action="click", url="https://x.test/a"),
        # The same instant written with a Z and with another offset: both are parsed.
        bronze_row(_airbyte_raw_id="r4", email_id="e2", timestamp="2024-01-01T23:30:00Z"),
        bronze_row(_airbyte_raw_id="r5", email_id="e3", timestamp="2024-01-02T00:30:00+01:00"),
    )
    at = dt.datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
    day, ingested = dt.date(2024, 1, 1), dt.date(2024, 1, 2)  # 23:30 UTC: the date is UTC's

    def silver(email_id: str, action: str, bounce: str | None, url: str | None, ip: str | None):
        return ("c1", "l1", email_id, "ann@example.com", action, bounce, url, ip, at, ingested)

    expected = spark.createDataFrame(
        [
            (*silver("e1", "open", None, None, "10.0.0.1"), False, day),
            (*silver("e1", "bounce", "hard", None, None), False, day),
            (*silver("e1", "click", None, "https://x.test/a", "10.0.0.1"), False, day),
            (*silver("e2", "open", None, None, "10.0.0.1"), False, day),
            (*silver("e3", "open", None, None, "10.0.0.1"), False, day),
        ],
        SILVER_SCHEMA,
    )
    assertDataFrameEqual(transform(bronze), expected, checkRowOrder=False)


def test_dedup_keeps_the_latest_copy_and_lateness_uses_the_first_ingest(
    spark: SparkSession,
) -> None:
    bronze = bronze_df(
        spark,
        bronze_row(_airbyte_raw_id="old", ip="10.0.0.1"),
        # A full refresh ten days later extracts the same event again: it is not late.
        bronze_row(
            _airbyte_raw_id="new",
            ip="10.0.0.2",
            _airbyte_extracted_at=dt.datetime(2024, 1, 12, tzinfo=UTC),
            ingest_date=dt.date(2024, 1, 12),
        ),
        # An event first seen five days after it happened: late, flagged, kept.
        bronze_row(
            _airbyte_raw_id="late",
            email_id="e9",
            ingest_date=dt.date(2024, 1, 6),
            _airbyte_extracted_at=dt.datetime(2024, 1, 6, tzinfo=UTC),
        ),
    )
    rows = transform(bronze, late_after_days=3).select(
        "email_id", "ip", "first_ingest_date", "is_late"
    )
    assertDataFrameEqual(
        rows,
        [
            Row(email_id="e1", ip="10.0.0.2", first_ingest_date=dt.date(2024, 1, 2), is_late=False),
            Row(email_id="e9", ip="10.0.0.1", first_ingest_date=dt.date(2024, 1, 6), is_late=True),
        ],
        checkRowOrder=False,
    )


def test_rows_that_cannot_be_events_are_quarantined_not_dropped(spark: SparkSession) -> None:
    bronze = bronze_df(
        spark,
        bronze_row(),
        bronze_row(_airbyte_raw_id="no-campaign", campaign_id=None),
        bronze_row(_airbyte_raw_id="no-email", email_id=None),
        bronze_row(_airbyte_raw_id="no-time", timestamp=""),
        bronze_row(_airbyte_raw_id="bad-time", timestamp="01/02/2024 10:00"),
        bronze_row(_airbyte_raw_id="bad-action", action="forward"),
        # the same bad record extracted again by the next sync: quarantined once, as first landed
        bronze_row(
            _airbyte_raw_id="bad-action-again",
            action="forward",
            _airbyte_extracted_at=dt.datetime(2024, 1, 3, 1, 0, tzinfo=UTC),
            ingest_date=dt.date(2024, 1, 3),
        ),
    )
    assert transform(bronze).count() == 1
    assertDataFrameEqual(
        quarantined(bronze).select("_airbyte_raw_id", "reason"),
        [
            Row(_airbyte_raw_id="no-campaign", reason="null campaign_id"),
            Row(_airbyte_raw_id="no-email", reason="null email_id"),
            Row(_airbyte_raw_id="no-time", reason="missing timestamp"),
            Row(_airbyte_raw_id="bad-time", reason="unparseable timestamp"),
            Row(_airbyte_raw_id="bad-action", reason="unknown action"),
        ],
        checkRowOrder=False,
    )


# --- main(), on a lake in tmp_path ------------------------------------------------------------

ACTIVITY_SCHEMA = {
    "type": "object",
    "properties": {
        name: {"type": ["null", "boolean" if name == "list_is_active" else "string"]}
        for name in (
            *("campaign_id", "list_id", "list_is_active", "email_id", "email_address"),
            *("action", "type", "timestamp", "url", "ip"),
        )
    },
}


def land(lake: Path, ingest_date: str, events: list[dict[str, object]]) -> None:
    """Land ``events`` in bronze with destination-lake, as an ingestion on ``ingest_date``."""
    catalog = ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {
                        "name": "email_activity",
                        "json_schema": ACTIVITY_SCHEMA,
                        "supported_sync_modes": ["full_refresh"],
                    },
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "append",
                }
            ]
        }
    )
    extracted_at = int(dt.datetime.fromisoformat(f"{ingest_date}T06:00:00+00:00").timestamp())
    messages = [
        AirbyteMessageSerializer.load(
            {
                "type": "RECORD",
                "record": {
                    "stream": "email_activity",
                    "data": e,
                    "emitted_at": extracted_at * 1000,
                },
            }
        )
        for e in events
    ]
    config = {"lake_root": str(lake), "ingest_date": ingest_date}
    list(DestinationLake().write(config, catalog, messages))


def event(email_id: str, day: int, **overrides: object) -> dict[str, object]:
    """An open of campaign c1 at noon UTC on 2024-01-<day>."""
    return {
        "campaign_id": "c1",
        "list_id": "l1",
        "list_is_active": True,
        "email_id": email_id,
        "email_address": f"{email_id}@example.com",
        "action": "open",
        "type": None,
        "timestamp": f"2024-01-{day:02d}T12:00:00+00:00",
        "url": None,
        "ip": "10.0.0.1",
        **overrides,
    }


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """Two ingestions; the second repeats one event and brings a late one and a bad one."""
    land(tmp_path, "2024-01-01", [event("e1", 1), event("e2", 1)])
    land(
        tmp_path,
        "2024-01-06",
        [event("e1", 1), event("e4", 1), event("e5", 6), event("e3", 6, action="forward")],
    )
    return tmp_path


def silver_argv(lake: Path, *extra: str) -> list[str]:
    return [
        *("--input", str(lake / "bronze" / "email_activity")),
        *("--output", str(lake / "silver" / "email_activity")),
        *("--quarantine", str(lake / "quarantine" / "email_activity")),
        *("--master", "local[1]"),
        *extra,
    ]


def published_rows(
    spark: SparkSession, table: Path, *columns: str, schema: StructType = SILVER_SCHEMA
) -> list[tuple]:
    rows = read_published(spark, table, schema).select(*columns).collect()
    return sorted(tuple(row) for row in rows)


def test_silver_is_published_by_event_date_with_late_events_and_quarantine(
    spark: SparkSession, lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert email_activity.main(silver_argv(lake)) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_read"] == 6
    assert summary["rows_written"] == 4  # 6 read - 1 duplicate - 1 quarantined
    assert summary["late_events"] == 1
    assert summary["rows_quarantined"] == 1
    silver = lake / "silver" / "email_activity"
    assert published_rows(spark, silver, "email_id", "event_date", "is_late") == [
        ("e1", dt.date(2024, 1, 1), False),
        ("e2", dt.date(2024, 1, 1), False),
        ("e4", dt.date(2024, 1, 1), True),
        ("e5", dt.date(2024, 1, 6), False),
    ]
    quarantine = lake / "quarantine" / "email_activity"
    rejected = published_rows(spark, quarantine, "email_id", "reason", schema=QUARANTINE_SCHEMA)
    assert rejected == [("e3", "unknown action")]
    # Readers outside Spark (dbt, the quality checks) read the Delta table with delta-rs: the
    # current version's rows, instants in UTC.
    table = DeltaTable(str(silver))
    arrow = table.to_pyarrow_table()
    assert arrow.num_rows == 4
    assert str(arrow.schema.field("event_at").type) == "timestamp[us, tz=UTC]"
    # The files hold the schema that spark_jobs/schemas.py gives the readers without Spark (the
    # quality checks, the tests' fixtures): the owner says what Spark really writes.
    parts = table.file_uris()
    assert parts
    for part in parts:
        schema = pq.read_schema(part).remove_metadata()
        # Delta 4.4 also writes the partition column into each file; the log holds it as well.
        schema = schema.remove(schema.get_field_index("event_date"))
        assert schema == arrow_schema(SILVER_EMAIL_ACTIVITY)


def test_a_rerun_of_a_date_publishes_the_same_table_as_a_new_version(
    spark: SparkSession, lake: Path
) -> None:
    silver = lake / "silver" / "email_activity"
    assert email_activity.main(silver_argv(lake, "--run-date", "2024-01-01")) == 0
    as_of_first = published_rows(spark, silver, "*")
    assert [row[2] for row in as_of_first] == ["e1", "e2"]  # the 6th's ingestion is not seen

    for _ in range(2):
        assert email_activity.main(silver_argv(lake, "--run-date", "2024-01-06")) == 0
        assert len(published_rows(spark, silver, "*")) == 4
    # Every run is one commit of the transaction log, and the versions before stay readable.
    assert last_commit(silver)["version"] == 2
    old = spark.read.format("delta").option("versionAsOf", 0).load(str(silver))
    assert sorted(tuple(row) for row in old.select(*SILVER_SCHEMA.fieldNames()).collect()) == (
        as_of_first
    )
    assert email_activity.main(silver_argv(lake, "--run-date", "2024-01-01")) == 0
    assert published_rows(spark, silver, "*") == as_of_first


def test_missing_bronze_is_a_clear_error(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert email_activity.main(silver_argv(tmp_path)) == 2
    assert "no input data" in capsys.readouterr().err


def test_a_job_killed_while_writing_leaves_the_previous_publish_whole(
    spark: SparkSession, lake: Path
) -> None:
    """kill -9 a real job process after its new version appears and before it commits."""
    silver = lake / "silver" / "email_activity"
    assert email_activity.main(silver_argv(lake, "--run-date", "2024-01-01")) == 0
    before = last_commit(silver)["version"]
    files_before = set(silver.rglob("*.parquet"))
    rows_before = published_rows(spark, silver, "*")

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    job = subprocess.Popen(
        [sys.executable, "-m", "spark_jobs.email_activity", *silver_argv(lake)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not set(silver.rglob("*.parquet")) - files_before:
            assert job.poll() is None and time.monotonic() < deadline, "the job never wrote"
            time.sleep(0.01)
    finally:
        job.kill()
        job.wait()

    # The killed job wrote files but never committed them: the table is at its previous version.
    assert last_commit(silver)["version"] == before
    assert published_rows(spark, silver, "*") == rows_before
    # The next run commits the next version normally; the orphan files are never read.
    assert email_activity.main(silver_argv(lake)) == 0
    assert last_commit(silver)["version"] == before + 1
    assert len(published_rows(spark, silver, "*")) == 4
