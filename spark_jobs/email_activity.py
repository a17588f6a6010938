"""Email activity, bronze -> silver: type, deduplicate and publish MailChimp activity events.

Input, ``<lake>/bronze/email_activity/ingest_date=YYYY-MM-DD/*.parquet``: the rows of
``raw_mailchimp.email_activity`` as landed from DuckDB (see docs/contracts.md).

Outputs:

- ``<lake>/silver/email_activity/event_date=YYYY-MM-DD/*.parquet``: one row per event, deduplicated
  on (campaign_id, email_id, action, event_at), columns :data:`SILVER_COLUMNS`.
- ``<lake>/quarantine/email_activity/ingest_date=YYYY-MM-DD/*.parquet``: the bronze rows that cannot
  become events (a null key, a missing timestamp, an unknown action) with a ``reason`` column, so
  nothing is dropped silently and a person can look at what was set aside.

Run it locally, or on a cluster with the same arguments (ship the project with ``--py-files`` or
install it in the cluster's image)::

    uv run python -m spark_jobs.email_activity \\
        --input data/lake/bronze/email_activity --output data/lake/silver/email_activity
    spark-submit spark_jobs/email_activity.py --master spark://spark:7077 --input ... --output ...
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from dataclasses import asdict, dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from spark_jobs.session import build_session

APP_NAME = "email_activity_silver"

# The bronze rows as DuckDB writes them: TIMESTAMPTZ becomes a UTC Parquet timestamp, JSON a string.
# Reading with this schema (never inferring one) makes a changed upstream type fail loudly here.
BRONZE_SCHEMA = StructType(
    [
        StructField("campaign_id", StringType()),
        StructField("list_id", StringType()),
        StructField("list_is_active", BooleanType()),
        StructField("email_id", StringType()),
        StructField("email_address", StringType()),
        StructField("action", StringType()),
        StructField("type", StringType()),
        StructField("timestamp", TimestampType()),
        StructField("url", StringType()),
        StructField("ip", StringType()),
        StructField("_airbyte_raw_id", StringType()),
        StructField("_airbyte_extracted_at", TimestampType()),
        StructField("_airbyte_meta", StringType()),
        # The partition column of the bronze directory.
        StructField("ingest_date", DateType()),
    ]
)

SILVER_COLUMNS = [
    "campaign_id",
    "list_id",
    "email_id",
    "email_address",
    "action",
    "bounce_type",
    "url",
    "ip",
    "event_at",
    "event_date",
]
EVENT_KEY = ["campaign_id", "email_id", "action", "event_at"]
KNOWN_ACTIONS = ("open", "click", "bounce")


@dataclass(frozen=True)
class RunSummary:
    """What one run did, for the orchestrator's log."""

    rows_read: int
    rows_written: int
    rows_quarantined: int
    event_dates: list[str]


def reject_reason(bronze: DataFrame) -> Column:
    """The first reason a bronze row cannot become a silver event, or null when it can.

    A missing timestamp covers unparseable ones too: DuckDB loads an empty or invalid date-time as
    NULL (docs/contracts.md), so bronze never holds a timestamp Spark cannot read.
    """
    return (
        F.when(bronze["campaign_id"].isNull(), F.lit("null campaign_id"))
        .when(bronze["email_id"].isNull(), F.lit("null email_id"))
        .when(bronze["action"].isNull(), F.lit("null action"))
        .when(bronze["timestamp"].isNull(), F.lit("missing timestamp"))
        .when(~bronze["action"].isin(*KNOWN_ACTIONS), F.lit("unknown action"))
    )


def quarantined(bronze: DataFrame) -> DataFrame:
    """The bronze rows that :func:`transform` leaves out, each with its ``reason``."""
    return bronze.withColumn("reason", reject_reason(bronze)).where(F.col("reason").isNotNull())


def transform(bronze: DataFrame) -> DataFrame:
    """Bronze rows -> silver events: valid rows only, typed, renamed, deduplicated.

    Airbyte may extract the same event more than once (a retried page, an overlapping incremental
    window); the copy extracted last wins, with ``_airbyte_raw_id`` as a tie-break so that reruns
    pick the same row.
    """
    valid = bronze.where(reject_reason(bronze).isNull())
    events = valid.select(
        "campaign_id",
        "list_id",
        "email_id",
        "email_address",
        "action",
        F.col("type").alias("bounce_type"),
        "url",
        "ip",
        F.col("timestamp").alias("event_at"),
        F.to_date("timestamp").alias("event_date"),  # in UTC: the session's time zone
        "_airbyte_extracted_at",
        "_airbyte_raw_id",
    )
    latest_first = Window.partitionBy(*EVENT_KEY).orderBy(
        F.col("_airbyte_extracted_at").desc_nulls_last(), F.col("_airbyte_raw_id").desc_nulls_last()
    )
    return (
        events.withColumn("copy_rank", F.row_number().over(latest_first))
        .where(F.col("copy_rank") == 1)
        .select(*SILVER_COLUMNS)
    )


def read_bronze(spark: SparkSession, path: str) -> DataFrame:
    """All bronze partitions under ``path``, with :data:`BRONZE_SCHEMA`."""
    return spark.read.schema(BRONZE_SCHEMA).option("basePath", path).parquet(path)


def select_run(bronze: DataFrame, run_date: dt.date | None) -> tuple[DataFrame, DataFrame]:
    """Split bronze into (the rows this run ingests, the rows it must rebuild silver from).

    Without a run date both are all of bronze. With one, the run ingests one ``ingest_date``
    partition, but an event ingested today may belong to an ``event_date`` published yesterday (late
    events), and overwriting that partition from today's rows alone would lose yesterday's. So the
    silver input is every bronze row whose event date is one this run touches.
    """
    if run_date is None:
        return bronze, bronze
    ingested = bronze.where(F.col("ingest_date") == F.lit(run_date))
    touched = ingested.select(F.to_date("timestamp").alias("event_date")).distinct()
    rebuild = bronze.join(
        touched, F.to_date(bronze["timestamp"]) == touched["event_date"], "left_semi"
    )
    return ingested, rebuild


def publish(df: DataFrame, path: str, partition_column: str) -> None:
    """Replace the partitions of ``path`` that ``df`` has rows for, and only those.

    Why not a plain ``mode("overwrite")``: a static overwrite deletes the whole table before
    writing it, so a job that fails half-way leaves readers an empty or partial table, and a run for
    one day erases every other day. With dynamic partition overwrite, Spark writes the new files to
    a staging directory and, only once every task has succeeded, swaps each written partition in;
    partitions this run has no rows for are left alone, so a rerun for the same dates is idempotent.
    (The swap is one rename per partition, not one transaction across partitions: a table format
    such as Delta or Iceberg would give readers a true snapshot, and needs jars this project cannot
    fetch.)
    """
    # One task per partition value, so each partition is written as one file, not one per task.
    (
        df.repartition(partition_column)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(partition_column)
        .parquet(path)
    )


def run(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    quarantine_path: str | None = None,
    run_date: dt.date | None = None,
) -> RunSummary:
    """Read bronze, publish silver (and quarantine), and say what was done."""
    ingested, rebuild = select_run(read_bronze(spark, input_path), run_date)
    silver = transform(rebuild).persist()
    try:
        publish(silver, output_path, "event_date")
        rejected = quarantined(ingested)
        if quarantine_path is not None:
            publish(rejected, quarantine_path, "ingest_date")
        event_dates = sorted(
            row["event_date"].isoformat()
            for row in silver.select("event_date").distinct().collect()
        )
        return RunSummary(
            rows_read=ingested.count(),
            rows_written=silver.count(),
            rows_quarantined=rejected.count(),
            event_dates=event_dates,
        )
    finally:
        silver.unpersist()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="bronze directory (ingest_date=... below)")
    parser.add_argument("--output", required=True, help="silver directory (event_date=... below)")
    parser.add_argument("--quarantine", help="directory for rejected rows; omitted: not written")
    parser.add_argument(
        "--run-date",
        type=dt.date.fromisoformat,
        help="the ingest_date partition to process, YYYY-MM-DD (default: all of bronze)",
    )
    parser.add_argument(
        "--master",
        default=os.environ.get("SPARK_MASTER", "local[*]"),
        help="Spark master (default: $SPARK_MASTER or local[*])",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the job as a command: print its summary as one JSON line, return the exit code."""
    args = parse_args(argv)
    # Stop the session at the end only if this call started it: a test or a notebook keeps its own.
    owns_session = SparkSession.getActiveSession() is None
    spark = build_session(APP_NAME, args.master)
    try:
        summary = run(spark, args.input, args.output, args.quarantine, args.run_date)
    except AnalysisException as error:
        if error.getCondition() != "PATH_NOT_FOUND":
            raise
        print(f"email_activity: no bronze data at {args.input}", file=sys.stderr)
        return 2
    finally:
        if owns_session:
            spark.stop()
    print(json.dumps({"job": APP_NAME, **asdict(summary)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
