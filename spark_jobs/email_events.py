"""Gold: email_events, every silver event with the activity session it belongs to.

One row per event (open, click or bounce), the silver columns plus ``session_id``: the
person_sessions session an open or click is part of (null for a bounce, which is a delivery
failure, not activity). Partitioned by ``event_date`` like silver, so the warehouse's incremental
``fct_email_events`` reads only the days it needs. This is the event grain the warehouse reads;
the sessions themselves are in gold/person_sessions.

    python -m spark_jobs.email_events --input data/lake/silver/email_activity \\
        --output data/lake/gold/email_events --run-date 2024-01-06
"""

from __future__ import annotations

import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.email_activity import SILVER_SCHEMA
from spark_jobs.gold import gold_main
from spark_jobs.person_sessions import ACTIVITY, sessionize

APP_NAME = "email_events"
COLUMNS = [*SILVER_SCHEMA.fieldNames(), "session_id"]


def transform(silver: DataFrame) -> DataFrame:
    """Silver events -> the same events, each with its session_id (null for a bounce)."""
    activity = sessionize(silver)
    other = silver.where(~F.col("action").isin(*ACTIVITY)).withColumn(
        "session_id", F.lit(None).cast("string")
    )
    return activity.select(COLUMNS).unionByName(other.select(COLUMNS))


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
