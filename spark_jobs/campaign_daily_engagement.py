"""Gold: campaign_daily_engagement, one row per campaign per day with email activity.

Columns: campaign_id, event_date, opens, unique_openers, clicks, unique_clickers, bounces.
``opens`` and ``clicks`` count events (a person opening twice counts twice); the ``unique_``
columns count people (distinct email_id) that day. A person active on two days counts once on
each day, so unique counts must not be summed across days.

    python -m spark_jobs.campaign_daily_engagement --input data/lake/silver/email_activity \\
        --output data/lake/gold/campaign_daily_engagement --run-date 2024-01-06
"""

from __future__ import annotations

import sys

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs.gold import gold_main

APP_NAME = "campaign_daily_engagement"
INPUT = "silver/email_activity"  # under the lake\'s root


def _is(action: str) -> Column:
    return F.col("action") == action


def engagement(silver: DataFrame, *grain: str) -> DataFrame:
    """Opens, clicks, bounces and the people behind them, one row per value of ``grain``."""
    return silver.groupBy(*grain).agg(
        F.count_if(_is("open")).alias("opens"),
        F.count_distinct(F.when(_is("open"), F.col("email_id"))).alias("unique_openers"),
        F.count_if(_is("click")).alias("clicks"),
        F.count_distinct(F.when(_is("click"), F.col("email_id"))).alias("unique_clickers"),
        F.count_if(_is("bounce")).alias("bounces"),
    )


def transform(silver: DataFrame) -> DataFrame:
    """Silver events -> one row per (campaign_id, event_date)."""
    return engagement(silver, "campaign_id", "event_date")


def main(argv: list[str] | None = None) -> int:
    return gold_main(APP_NAME, __doc__, lambda silver, _args: transform(silver), argv)


if __name__ == "__main__":
    sys.exit(main())
