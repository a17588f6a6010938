"""Gold: person_sessions, each person's bursts of activity (opens and clicks close in time).

One row per session of gold email_events (which assigns each open and click its session: see
:mod:`spark_jobs.email_events` for the rule, a gap of more than 30 minutes starts a new one), so
this job reads gold/email_events, not silver: the sessions are found once, by one job.

Columns: session_id (sha256 of email_id and start, stable across reruns), email_id,
session_start_at, session_end_at, duration_seconds, events, opens, clicks, campaigns (distinct
campaign_ids in the session), session_date (UTC date of the start).

    python -m spark_jobs.person_sessions --input data/lake/gold/email_events \\
        --output data/lake/gold/person_sessions --run-date 2024-01-06
"""

from __future__ import annotations

import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.email_events import read_email_events
from spark_jobs.gold import gold_main

APP_NAME = "person_sessions"
INPUT = "gold/email_events"  # under the lake's root


def transform(email_events: DataFrame) -> DataFrame:
    """Gold email events -> one row per session (see the module docstring)."""
    sessions = (
        email_events.where(F.col("session_id").isNotNull())
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
    return gold_main(
        APP_NAME,
        __doc__,
        lambda events, _args: transform(events),
        argv,
        reads=read_email_events,
        input_help="the published gold email_events table",
    )


if __name__ == "__main__":
    sys.exit(main())
