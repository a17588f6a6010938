"""The email-activity lake job: its pure transform on tiny DataFrames, then ``main`` on a lake.

Bronze files in the end-to-end tests are written by DuckDB, as the landing step writes them, so
these tests also hold the job to the Parquet types of the contract (docs/contracts.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.testing import assertDataFrameEqual

from spark_jobs.email_activity import BRONZE_SCHEMA, main, quarantined, transform
from spark_jobs.session import build_session

UTC = dt.UTC


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


def bronze_row(**overrides: object) -> dict[str, object]:
    """A valid bronze row: an open of campaign c1 by e1 at 2024-01-01 23:30 UTC."""
    row: dict[str, object] = {
        "campaign_id": "c1",
        "list_id": "l1",
        "list_is_active": True,
        "email_id": "e1",
        "email_address": "ann@example.com",
        "action": "open",
        "type": None,
        "timestamp": dt.datetime(2024, 1, 1, 23, 30, tzinfo=UTC),
        "url": None,
        "ip": "10.0.0.1",
        "_airbyte_raw_id": "r1",
        "_airbyte_extracted_at": dt.datetime(2024, 1, 2, 1, 0, tzinfo=UTC),
        "_airbyte_meta": "{}",
        "ingest_date": dt.date(2024, 1, 2),
    }
    row.update(overrides)
    return row


def bronze_df(spark: SparkSession, *rows: dict[str, object]) -> DataFrame:
    return spark.createDataFrame(
        [tuple(row[field.name] for field in BRONZE_SCHEMA) for row in rows], BRONZE_SCHEMA
    )


SILVER_DDL = (
    "campaign_id string, list_id string, email_id string, email_address string, action string,"
    " bounce_type string, url string, ip string, event_at timestamp, event_date date"
)


def test_transform_types_renames_and_dates_events_in_utc(spark: SparkSession) -> None:
    bronze = bronze_df(
        spark,
        bronze_row(),
        bronze_row(_airbyte_raw_id="r2", action="bounce", type="hard", ip=None),
        bronze_row(_airbyte_raw_id="r3", action="click", url="https://example.com/x"),
    )
    event_at = dt.datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
    day = dt.date(2024, 1, 1)  # 23:30 UTC is already the 2nd in Paris: the date is UTC's
    expected = spark.createDataFrame(
        [
            ("c1", "l1", "e1", "ann@example.com", "open", None, None, "10.0.0.1", event_at, day),
            ("c1", "l1", "e1", "ann@example.com", "bounce", "hard", None, None, event_at, day),
            (
                "c1",
                "l1",
                "e1",
                "ann@example.com",
                "click",
                None,
                "https://example.com/x",
                "10.0.0.1",
                event_at,
                day,
            ),
        ],
        SILVER_DDL,
    )
    assertDataFrameEqual(transform(bronze), expected, checkRowOrder=False)


def test_transform_keeps_the_latest_extracted_copy_of_an_event(spark: SparkSession) -> None:
    bronze = bronze_df(
        spark,
        bronze_row(_airbyte_raw_id="old", ip="10.0.0.1"),
        bronze_row(
            _airbyte_raw_id="new",
            ip="10.0.0.2",
            _airbyte_extracted_at=dt.datetime(2024, 1, 3, tzinfo=UTC),
        ),
    )
    assert [row.ip for row in transform(bronze).collect()] == ["10.0.0.2"]


def test_rows_that_cannot_be_events_are_quarantined_not_dropped(spark: SparkSession) -> None:
    bronze = bronze_df(
        spark,
        bronze_row(),
        bronze_row(_airbyte_raw_id="no-campaign", campaign_id=None),
        bronze_row(_airbyte_raw_id="no-email", email_id=None),
        bronze_row(_airbyte_raw_id="no-time", timestamp=None),
        bronze_row(_airbyte_raw_id="bad-action", action="forward"),
    )
    assert transform(bronze).count() == 1
    assertDataFrameEqual(
        quarantined(bronze).select("_airbyte_raw_id", "reason"),
        [
            Row(_airbyte_raw_id="no-campaign", reason="null campaign_id"),
            Row(_airbyte_raw_id="no-email", reason="null email_id"),
            Row(_airbyte_raw_id="no-time", reason="missing timestamp"),
            Row(_airbyte_raw_id="bad-action", reason="unknown action"),
        ],
        checkRowOrder=False,
    )


# --- main(), on a lake in tmp_path ------------------------------------------------------------


def write_bronze(bronze_dir: Path, ingest_date: str, rows: list[dict[str, object]]) -> None:
    """Land ``rows`` as DuckDB does: a typed table copied to one Parquet file per ingest date."""
    partition = bronze_dir / f"ingest_date={ingest_date}"
    partition.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            """
            create table email_activity (
                campaign_id varchar, list_id varchar, list_is_active boolean, email_id varchar,
                email_address varchar, action varchar, type varchar, "timestamp" timestamptz,
                url varchar, ip varchar, _airbyte_raw_id varchar,
                _airbyte_extracted_at timestamptz, _airbyte_meta json
            )
            """
        )
        columns = [field.name for field in BRONZE_SCHEMA if field.name != "ingest_date"]
        con.executemany(
            f"insert into email_activity values ({', '.join('?' * len(columns))})",
            [[row[name] for name in columns] for row in rows],
        )
        con.execute(f"copy email_activity to '{partition / 'part-0.parquet'}' (format parquet)")


def event(raw_id: str, email_id: str, day: int, **overrides: object) -> dict[str, object]:
    """A bronze open event at noon UTC on 2024-01-<day>."""
    return bronze_row(
        _airbyte_raw_id=raw_id,
        email_id=email_id,
        timestamp=dt.datetime(2024, 1, day, 12, tzinfo=UTC),
        **overrides,
    )


@pytest.fixture
def lake(tmp_path: Path) -> dict[str, Path]:
    """Bronze for two ingest dates; the second repeats one event and brings one late event."""
    paths = {name: tmp_path / name for name in ("bronze", "silver", "quarantine")}
    write_bronze(
        paths["bronze"],
        "2024-01-01",
        [event("a", "e1", 1), event("b", "e2", 1), event("bad", "e3", 1, action="forward")],
    )
    write_bronze(
        paths["bronze"],
        "2024-01-02",
        [event("a-again", "e1", 1), event("late", "e4", 1), event("c", "e5", 2)],
    )
    return paths


def run_job(paths: dict[str, Path], *extra: str) -> int:
    return main(
        [
            "--input",
            str(paths["bronze"]),
            "--output",
            str(paths["silver"]),
            "--quarantine",
            str(paths["quarantine"]),
            "--master",
            "local[1]",
            *extra,
        ]
    )


def partitions(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.is_dir())


def silver_rows(spark: SparkSession, silver_dir: Path) -> list[tuple[str, str]]:
    rows = spark.read.parquet(str(silver_dir)).select("email_id", "event_date").collect()
    return sorted((row.email_id, row.event_date.isoformat()) for row in rows)


def test_main_publishes_silver_by_event_date_and_quarantines_bad_rows(
    spark: SparkSession, lake: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_job(lake) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary["rows_read"] == 6
    assert summary["rows_written"] == 4  # 6 read - 1 duplicate - 1 quarantined
    assert summary["rows_quarantined"] == 1
    assert summary["event_dates"] == ["2024-01-01", "2024-01-02"]
    assert partitions(lake["silver"]) == ["event_date=2024-01-01", "event_date=2024-01-02"]
    assert silver_rows(spark, lake["silver"]) == [
        ("e1", "2024-01-01"),
        ("e2", "2024-01-01"),
        ("e4", "2024-01-01"),
        ("e5", "2024-01-02"),
    ]
    assert partitions(lake["quarantine"]) == ["ingest_date=2024-01-01"]
    rejected = spark.read.parquet(str(lake["quarantine"])).collect()
    assert [(row._airbyte_raw_id, row.reason) for row in rejected] == [("bad", "unknown action")]
    # DuckDB, and so dbt, reads the published timestamps as instants.
    with duckdb.connect() as con:
        (event_type,) = con.execute(
            f"select typeof(event_at) from '{lake['silver']}/*/*.parquet' limit 1"
        ).fetchone()
    assert event_type == "TIMESTAMP WITH TIME ZONE"


def test_rerun_is_idempotent(spark: SparkSession, lake: dict[str, Path]) -> None:
    assert run_job(lake) == 0
    first = silver_rows(spark, lake["silver"])
    files = sorted(path.name for path in lake["silver"].glob("*/*.parquet"))

    assert run_job(lake) == 0
    assert silver_rows(spark, lake["silver"]) == first
    assert len(list(lake["silver"].glob("*/*.parquet"))) == len(files)


def test_a_run_for_one_ingest_date_keeps_other_partitions_and_late_events(
    spark: SparkSession, lake: dict[str, Path]
) -> None:
    assert run_job(lake, "--run-date", "2024-01-01") == 0
    write_bronze(lake["bronze"], "2024-01-03", [event("d", "e6", 3)])

    assert run_job(lake, "--run-date", "2024-01-03") == 0
    assert partitions(lake["silver"]) == ["event_date=2024-01-01", "event_date=2024-01-03"]

    # Ingest date 2024-01-02 holds an event of 2024-01-01: rebuilding that day keeps the events
    # ingested on the 1st as well.
    assert run_job(lake, "--run-date", "2024-01-02") == 0
    assert silver_rows(spark, lake["silver"]) == [
        ("e1", "2024-01-01"),
        ("e2", "2024-01-01"),
        ("e4", "2024-01-01"),
        ("e5", "2024-01-02"),
        ("e6", "2024-01-03"),
    ]


def test_missing_bronze_is_a_clear_error(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = {name: tmp_path / name for name in ("bronze", "silver", "quarantine")}
    assert run_job(paths) == 2
    assert "no bronze data" in capsys.readouterr().err
