"""Gold: email_events, every silver event with the activity session it belongs to.

One row per event (open, click or bounce), the silver columns plus ``session_id``. A session is
a person's burst of activity: it starts with their first open or click, and goes on while each
next one follows the previous within :data:`SESSION_GAP_SECONDS` (30 minutes, gaps of exactly 30
minutes included); a longer gap starts a new session. ``session_id`` is the sha256 of the email_id
and the session's start, stable across reruns. Bounces are delivery failures, not activity: their
``session_id`` is null.

Partitioned by ``event_date`` like silver, so the warehouse's incremental ``fct_email_events``
reads only the days it needs. This is the event grain the warehouse reads, and what
person_sessions sums into one row per session.

    python -m spark_jobs.email_events --input data/lake/silver/email_activity \\
        --output data/lake/gold/email_events --run-date 2024-01-06
"""

from __future__ import annotations

import datetime as dt
import sys

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from spark_jobs.delta_io import read_published
from spark_jobs.gold import gold_main
from spark_jobs.schemas import GOLD_EMAIL_EVENTS, spark_schema

APP_NAME = "email_events"
INPUT = "silver/email_activity"  # under the lake's root
SESSION_GAP_SECONDS = 30 * 60
ACTIVITY = ("open", "click")  # what a session is made of
SCHEMA = spark_schema(GOLD_EMAIL_EVENTS)  # silver's columns, then session_id


def sessionize(silver: DataFrame) -> DataFrame:
    """The opens and clicks of silver, each with the ``session_id`` of the session it is part of."""
    activity = silver.where(F.col("action").isin(*ACTIVITY))
    in_time = Window.partitionBy("email_id").orderBy("event_at", "action", "campaign_id")
    gap = F.unix_seconds("event_at") - F.unix_seconds(F.lag("event_at").over(in_time))
    starts = activity.withColumn(
        "starts_session", F.when(gap <= SESSION_GAP_SECONDS, 0).otherwise(1)
    )
    numbered = starts.withColumn("session_number", F.sum("starts_session").over(in_time))
    session = Window.partitionBy("email_id", "session_number")
    session_start = F.min("event_at").over(session)
    session_id = F.sha2(
        F.concat_ws("|", "email_id", F.date_format(session_start, "yyyy-MM-dd'T'HH:mm:ss")), 256
    )
    return numbered.withColumn("session_id", session_id).drop("starts_session", "session_number")


def transform(silver: DataFrame) -> DataFrame:
    """Silver events -> the same events, each with its session_id (null for a bounce)."""
    activity = sessionize(silver)
    other = silver.where(~F.col("action").isin(*ACTIVITY)).withColumn(
        "session_id", F.lit(None).cast("string")
    )
    columns = SCHEMA.fieldNames()
    return activity.select(columns).unionByName(other.select(columns))


def read_email_events(spark: SparkSession, table: str, run_date: dt.date | None) -> DataFrame:
    """The published gold email events up to ``run_date`` (all without one)."""
    events = read_published(spark, table, SCHEMA)
    if run_date is None:
        return events
    return events.where(F.col("event_date") <= F.lit(run_date))


def main(argv: list[str] | None = None) -> int:
    return gold_main(
        APP_NAME,
        __doc__,
        lambda silver, _args: transform(silver),
        argv,
        partition_by="event_date",
    )


if __name__ == "__main__":
    sys.exit(main())
