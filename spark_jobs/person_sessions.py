"""Gold: person_sessions, each person's bursts of activity (opens and clicks close in time).

A session starts with a person's first open or click, and goes on while each next one follows the
previous within :data:`SESSION_GAP_SECONDS` (30 minutes, gaps of exactly 30 minutes included);
a longer gap starts a new session. Bounces are delivery failures, not activity, so they are left
out.

Columns: session_id (sha256 of email_id and start, stable across reruns), email_id,
session_start_at, session_end_at, duration_seconds, events, opens, clicks, campaigns (distinct
campaign_ids in the session), session_date (UTC date of the start).

    python -m spark_jobs.person_sessions --input data/lake/silver/email_activity \\
        --output data/lake/gold/person_sessions --run-date 2024-01-06
"""

from __future__ import annotations

import sys

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from spark_jobs.gold import gold_main

APP_NAME = "person_sessions"
SESSION_GAP_SECONDS = 30 * 60
ACTIVITY = ("open", "click")  # what a session is made of


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
    """Silver events -> one row per session (see the module docstring)."""
    sessions = (
        sessionize(silver)
        .groupBy("session_id", "email_id")
        .agg(
            F.min("event_at").alias("session_start_at"),
            F.max("event_at").alias("session_end_at"),
            F.count("*").alias("events"),
            F.count_if(F.col("action") == "open").alias("opens"),
            F.count_if(F.col("action") == "click").alias("clicks"),
            F.count_distinct("campaign_id").alias("campaigns"),
        )
    )
    return sessions.select(
        "session_id",
        "email_id",
        "session_start_at",
        "session_end_at",
        (F.unix_seconds("session_end_at") - F.unix_seconds("session_start_at")).alias(
            "duration_seconds"
        ),
        "events",
        "opens",
        "clicks",
        "campaigns",
        F.to_date("session_start_at").alias("session_date"),
    )


def main(argv: list[str] | None = None) -> int:
    return gold_main(APP_NAME, __doc__, lambda silver, _args: transform(silver), argv)


if __name__ == "__main__":
    sys.exit(main())
