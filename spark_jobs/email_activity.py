"""Email activity, bronze -> silver: parse, type, deduplicate and publish MailChimp activity events.

Input, ``<lake>/bronze/email_activity/ingest_date=YYYY-MM-DD/*.parquet``: the records as
destination-lake landed them, fields as delivered (``timestamp`` is the API's string).

Outputs, each a Delta Lake table (a new version per run, committed atomically by the table's
transaction log: see :mod:`spark_jobs.delta_io`):

- ``<lake>/silver/email_activity``: one row per event, deduplicated on (campaign_id, email_id,
  action, event_at), partitioned by ``event_date``, columns :data:`SILVER_SCHEMA`. An event first
  ingested more than ``--late-after-days`` days after its event date is kept, flagged ``is_late``.
- ``<lake>/quarantine/email_activity``: the bronze rows that cannot become events (a null key, a
  missing or unparseable timestamp, an unknown action) with a ``reason`` column, partitioned by
  ``ingest_date``, so nothing is dropped silently and a person can look at what was set aside.

This entry point rebuilds both tables from all of bronze up to its run date (the pipeline runs the
incremental spark_jobs/lake.py instead): such a run is a pure function of
(bronze, run date), so rerunning a date gives the same tables, and a late event is merged into
its event date however late it comes.

Run it locally, or on a cluster with the same arguments (see spark_jobs/README.md)::

    uv run python -m spark_jobs.email_activity --input data/lake/bronze/email_activity \\
        --output data/lake/silver/email_activity --quarantine data/lake/quarantine/email_activity
    spark-submit --master spark://spark:7077 spark_jobs/email_activity.py --input ... --output ...
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

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

from spark_jobs.delta_io import publish, read_published
from spark_jobs.harness import job_arguments, run_job
from spark_jobs.schemas import SILVER_EMAIL_ACTIVITY, spark_schema

APP_NAME = "email_activity_silver"

# The bronze rows as destination-lake lands them (docs/contracts.md, Lake). Reading with this
# schema, never inferring one, makes a changed upstream type fail loudly here.
BRONZE_SCHEMA = StructType(
    [
        StructField("campaign_id", StringType()),
        StructField("list_id", StringType()),
        StructField("list_is_active", BooleanType()),
        StructField("email_id", StringType()),
        StructField("email_address", StringType()),
        StructField("action", StringType()),
        StructField("type", StringType()),
        StructField("timestamp", StringType()),
        StructField("url", StringType()),
        StructField("ip", StringType()),
        StructField("_airbyte_raw_id", StringType()),
        StructField("_airbyte_extracted_at", TimestampType()),
        # The partition column of the bronze directory.
        StructField("ingest_date", DateType()),
    ]
)

# MailChimp's date-time form, ``2026-03-01T08:12:59+00:00`` (``X`` also accepts a ``Z``). An
# explicit pattern, not Spark's lenient cast: a value in any other form is quarantined, not guessed.
TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ssXXX"
DEFAULT_LATE_AFTER_DAYS = 3

# What silver holds (spark_jobs/schemas.py); readers (the gold jobs) read it with this schema.
SILVER_SCHEMA = spark_schema(SILVER_EMAIL_ACTIVITY)
QUARANTINE_SCHEMA = StructType([*BRONZE_SCHEMA.fields, StructField("reason", StringType())])
EVENT_KEY = ["campaign_id", "email_id", "action", "event_at"]
# What a landing adds to a record (when, which copy): not part of the record itself.
LANDING_COLUMNS = ["ingest_date", "_airbyte_extracted_at", "_airbyte_raw_id"]
KNOWN_ACTIONS = ("open", "click", "bounce")


def event_at(bronze: DataFrame) -> Column:
    """The parsed event time (UTC), or null when the string is not in :data:`TIMESTAMP_FORMAT`."""
    return F.try_to_timestamp(bronze["timestamp"], F.lit(TIMESTAMP_FORMAT))


def reject_reason(bronze: DataFrame, parsed_at: Column | None = None) -> Column:
    """The first reason a bronze row cannot become a silver event, or null when it can.

    ``parsed_at`` is :func:`event_at` of the rows when the caller has already computed it.
    """
    parsed_at = event_at(bronze) if parsed_at is None else parsed_at
    return (
        F.when(bronze["campaign_id"].isNull(), F.lit("null campaign_id"))
        .when(bronze["email_id"].isNull(), F.lit("null email_id"))
        .when(bronze["action"].isNull(), F.lit("null action"))
        .when(F.coalesce(bronze["timestamp"], F.lit("")) == "", F.lit("missing timestamp"))
        .when(parsed_at.isNull(), F.lit("unparseable timestamp"))
        .when(~bronze["action"].isin(*KNOWN_ACTIONS), F.lit("unknown action"))
    )


def quarantined(bronze: DataFrame) -> DataFrame:
    """The bronze records that :func:`transform` leaves out, each once, with its ``reason``.

    An incremental sync extracts the records at its cursor again, so one bad record can land in
    bronze several times: it is kept once, as first landed, so that a rerun gives the same table.
    """
    rejected = bronze.withColumn("reason", reject_reason(bronze)).where(F.col("reason").isNotNull())
    record = [c for c in BRONZE_SCHEMA.fieldNames() if c not in LANDING_COLUMNS]
    first_landed = Window.partitionBy(*record).orderBy(*LANDING_COLUMNS)
    return (
        rejected.withColumn("copy_rank", F.row_number().over(first_landed))
        .where(F.col("copy_rank") == 1)
        .drop("copy_rank")
    )


def transform(bronze: DataFrame, late_after_days: int = DEFAULT_LATE_AFTER_DAYS) -> DataFrame:
    """Bronze rows -> silver events: valid rows only, typed, renamed, deduplicated, late flagged.

    Airbyte extracts the same event more than once (every full refresh, a retried page): the copy
    extracted last wins, with ``_airbyte_raw_id`` as a tie-break so that reruns pick the same row.
    Lateness is judged on the first time the event was ingested, so re-extracting an old event
    does not make it late.
    """
    # The timestamp is parsed once: the same column decides validity and becomes event_at.
    parsed = bronze.withColumn("_event_at", event_at(bronze))
    valid = parsed.where(reject_reason(parsed, parsed["_event_at"]).isNull())
    events = (
        valid.select(
            "campaign_id",
            "list_id",
            "email_id",
            "email_address",
            "action",
            F.col("type").alias("bounce_type"),
            "url",
            "ip",
            F.col("_event_at").alias("event_at"),
            "ingest_date",
            "_airbyte_extracted_at",
            "_airbyte_raw_id",
        )
        .withColumn("event_date", F.to_date("event_at"))  # in UTC: the session's time zone
        # One shuffle for the whole job: every copy of an event has the same event_date (it is
        # derived from event_at, part of the key), so clustering by date serves both the dedup
        # window below and the write, which is partitioned by date (Spark drops the write's own
        # repartition as redundant).
        .repartition("event_date")
    )
    copies = Window.partitionBy("event_date", *EVENT_KEY)
    latest_first = copies.orderBy(
        F.col("_airbyte_extracted_at").desc_nulls_last(), F.col("_airbyte_raw_id").desc_nulls_last()
    )
    first_ingest_date = F.min("ingest_date").over(copies)
    return (
        events.withColumn("copy_rank", F.row_number().over(latest_first))
        .withColumn("first_ingest_date", first_ingest_date)
        .where(F.col("copy_rank") == 1)
        .withColumn(
            "is_late", F.datediff("first_ingest_date", "event_date") > F.lit(late_after_days)
        )
        .select(*SILVER_SCHEMA.fieldNames())
    )


def read_bronze(spark: SparkSession, path: str, run_date: dt.date | None) -> DataFrame:
    """The bronze partitions under ``path`` ingested up to ``run_date`` (all without one)."""
    bronze = spark.read.schema(BRONZE_SCHEMA).option("basePath", path).parquet(path)
    if run_date is None:
        return bronze
    return bronze.where(F.col("ingest_date") <= F.lit(run_date))


def read_silver(spark: SparkSession, table: str, run_date: dt.date | None) -> DataFrame:
    """Published silver events up to ``run_date`` (all without one): where gold jobs start."""
    silver = read_published(spark, table, SILVER_SCHEMA)
    if run_date is None:
        return silver
    return silver.where(F.col("event_date") <= F.lit(run_date))


def run(spark: SparkSession, args: argparse.Namespace) -> dict[str, object]:
    """Read bronze, publish silver (and quarantine), and say what was done."""
    bronze = read_bronze(spark, args.input, args.run_date)
    silver = publish(
        transform(bronze, args.late_after_days), args.output, partition_by="event_date"
    )
    published = read_published(spark, args.output, SILVER_SCHEMA)
    summary: dict[str, object] = {
        "rows_read": bronze.count(),
        "rows_written": published.count(),
        "late_events": published.where("is_late").count(),
        "version": silver["version"],
    }
    if args.quarantine is not None:
        publish(quarantined(bronze), args.quarantine, partition_by="ingest_date")
        rejected = read_published(spark, args.quarantine, QUARANTINE_SCHEMA)
        summary["rows_quarantined"] = rejected.count()
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the job as a command: print its summary as one JSON line, return the exit code."""
    parser = job_arguments(__doc__, input_help="bronze folder (ingest_date=... below)")
    parser.add_argument("--quarantine", help="table for rejected rows; omitted: not written")
    parser.add_argument(
        "--late-after-days",
        type=int,
        default=DEFAULT_LATE_AFTER_DAYS,
        help="an event first ingested more than this many days after its date is flagged is_late",
    )
    return run_job(APP_NAME, parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
