"""Gold: campaign_engagement, one row per campaign with email activity, all days together.

Columns: campaign_id, opens, unique_openers, clicks, unique_clickers, bounces, first_event_at,
last_event_at. The same counts as campaign_daily_engagement at the campaign's grain: the
``unique_`` columns count each person once over the campaign's whole life, which summing the
daily table cannot give (a person who opens on two days is one opener, not two). This is the
table the warehouse's campaign_performance reads.

    python -m spark_jobs.campaign_engagement --input data/lake/silver/email_activity \\
        --output data/lake/gold/campaign_engagement --run-date 2024-01-06
"""

from __future__ import annotations

import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from spark_jobs.campaign_daily_engagement import engagement
from spark_jobs.gold import gold_main

APP_NAME = "campaign_engagement"
INPUT = "silver/email_activity"  # under the lake\'s root


def transform(silver: DataFrame) -> DataFrame:
    """Silver events -> one row per campaign_id."""
    times = silver.groupBy("campaign_id").agg(
        F.min("event_at").alias("first_event_at"), F.max("event_at").alias("last_event_at")
    )
    return engagement(silver, "campaign_id").join(times, "campaign_id")


def main(argv: list[str] | None = None) -> int:
    return gold_main(APP_NAME, __doc__, lambda silver, _args: transform(silver), argv)


if __name__ == "__main__":
    sys.exit(main())
