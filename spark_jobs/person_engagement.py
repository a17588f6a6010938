"""Gold: person_engagement, one row per person (email_id) with recency, frequency and a score.

As of the latest event date in silver up to the run date (the day the data reaches, not the wall
clock: a lake replayed or loaded late scores people the same, and a run is a pure function of its
data), counting only opens and clicks as engagement (bounces are delivery failures):

- ``last_engaged_at``, ``recency_days``: the last open or click, and the days from its date to
  the as-of date (null for a person who never engaged);
- ``frequency_30d``, ``frequency_90d``: opens plus clicks in the 30 and 90 days ending on the
  as-of date (inclusive); ``opens_90d``, ``clicks_90d``, ``bounces_90d``;
- ``engagement_score``, 0 to 100::

      50 * exp(-recency_days / 30)                       recent: 50 today, ~18 after a month
    + 50 * least(1, (opens_90d + 3 * clicks_90d) / 20)    active: a click is worth three opens

  Half recency, half frequency, as in RFM scoring; a person who never engaged scores 0.
  Rounded to one decimal.

Columns: email_id, email_address (the latest seen), first_event_at, last_engaged_at,
recency_days, frequency_30d, frequency_90d, opens_90d, clicks_90d, bounces_90d,
engagement_score, as_of_date.

    python -m spark_jobs.person_engagement --input data/lake/silver/email_activity \\
        --output data/lake/gold/person_engagement --run-date 2024-01-06
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs.gold import gold_main

APP_NAME = "person_engagement"
INPUT = "silver/email_activity"  # under the lake\'s root
RECENCY_DECAY_DAYS = 30  # the recency term falls by a factor e every 30 days
FULL_FREQUENCY = 20  # opens + 3 x clicks in 90 days that earn the whole frequency half
CLICK_WEIGHT = 3


def _engaged() -> Column:
    return F.col("action").isin("open", "click")


def _within(days: int, as_of: dt.date) -> Column:
    return F.col("event_date") > F.date_sub(F.lit(as_of), days)


def transform(silver: DataFrame, as_of: dt.date) -> DataFrame:
    """Silver events up to ``as_of`` -> one row per email_id (see the module docstring)."""
    events = silver.where(F.col("event_date") <= F.lit(as_of))
    people = events.groupBy("email_id").agg(
        F.max_by("email_address", "event_at").alias("email_address"),
        F.min("event_at").alias("first_event_at"),
        F.max(F.when(_engaged(), F.col("event_at"))).alias("last_engaged_at"),
        F.count_if(_engaged() & _within(30, as_of)).alias("frequency_30d"),
        F.count_if(_engaged() & _within(90, as_of)).alias("frequency_90d"),
        F.count_if((F.col("action") == "open") & _within(90, as_of)).alias("opens_90d"),
        F.count_if((F.col("action") == "click") & _within(90, as_of)).alias("clicks_90d"),
        F.count_if((F.col("action") == "bounce") & _within(90, as_of)).alias("bounces_90d"),
    )
    recency_days = F.datediff(F.lit(as_of), F.to_date("last_engaged_at"))
    recency = F.coalesce(F.exp(-recency_days / RECENCY_DECAY_DAYS), F.lit(0.0))
    activity = (F.col("opens_90d") + CLICK_WEIGHT * F.col("clicks_90d")) / FULL_FREQUENCY
    frequency = F.least(F.lit(1.0), activity)
    return people.select(
        "email_id",
        "email_address",
        "first_event_at",
        "last_engaged_at",
        recency_days.alias("recency_days"),
        "frequency_30d",
        "frequency_90d",
        "opens_90d",
        "clicks_90d",
        "bounces_90d",
        F.round(50 * recency + 50 * frequency, 1).alias("engagement_score"),
        F.lit(as_of).alias("as_of_date"),
    )


def main(argv: list[str] | None = None) -> int:
    def build(silver: DataFrame, _args: argparse.Namespace) -> DataFrame:
        # silver as of the run date: its latest event date is the as-of date (see the docstring)
        as_of = silver.agg(F.max("event_date")).first()[0]
        return transform(silver, as_of)

    return gold_main(APP_NAME, __doc__, build, argv)


if __name__ == "__main__":
    sys.exit(main())
