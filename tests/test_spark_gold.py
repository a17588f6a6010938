"""The gold jobs: each pure transform on a tiny silver DataFrame, then all three on a lake."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import test_spark_jobs as jobs_tests
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.testing import assertDataFrameEqual

from spark_jobs import (
    campaign_daily_engagement,
    campaign_engagement,
    email_activity,
    email_events,
    person_engagement,
    person_sessions,
)
from spark_jobs.delta_io import last_commit
from spark_jobs.email_activity import SILVER_SCHEMA
from spark_jobs.lake import GOLD_JOBS

# The Spark session and the bronze lake are test_spark_jobs' fixtures: one JVM for both files.
spark = jobs_tests.spark
lake = jobs_tests.lake
silver_argv = jobs_tests.silver_argv
UTC = dt.UTC
DAY = dt.date(2024, 3, 31)


def silver_df(spark: SparkSession, *events: tuple[str, str, str, dt.datetime]) -> DataFrame:
    """Silver rows from (campaign_id, email_id, action, event_at); the rest is filler."""
    rows = [
        (c, "l1", e, f"{e}@example.com", a, None, None, None, at, at.date(), False, at.date())
        for c, e, a, at in events
    ]
    return spark.createDataFrame(rows, SILVER_SCHEMA)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), UTC)


def test_campaign_daily_engagement_counts_events_and_people_per_day(spark: SparkSession) -> None:
    day1, day2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
    silver = silver_df(
        spark,
        ("c1", "e1", "open", at(day1, 9)),
        ("c1", "e1", "open", at(day1, 10)),
        ("c1", "e2", "open", at(day1, 11)),
        ("c1", "e1", "click", at(day1, 12)),
        ("c1", "e3", "bounce", at(day1, 8)),
        ("c1", "e1", "open", at(day2, 9)),
        ("c2", "e2", "click", at(day1, 9)),
    )
    schema = (
        "campaign_id string, event_date date, opens long, unique_openers long, clicks long,"
        " unique_clickers long, bounces long"
    )
    expected = spark.createDataFrame(
        [("c1", day1, 3, 2, 1, 1, 1), ("c1", day2, 1, 1, 0, 0, 0), ("c2", day1, 0, 0, 1, 1, 0)],
        schema,
    )
    assertDataFrameEqual(campaign_daily_engagement.transform(silver), expected, checkRowOrder=False)


def test_person_engagement_recency_frequency_and_score(spark: SparkSession) -> None:
    silver = silver_df(
        spark,
        ("c1", "e1", "open", at(DAY, 9)),
        ("c1", "e1", "click", at(DAY - dt.timedelta(days=10), 9)),
        ("c1", "e1", "click", at(DAY - dt.timedelta(days=10), 10)),
        ("c1", "e1", "open", at(DAY + dt.timedelta(days=1), 9)),  # after the as-of date: unseen
        ("c1", "e2", "open", at(DAY - dt.timedelta(days=60), 9)),
        ("c1", "e3", "bounce", at(DAY - dt.timedelta(days=5), 9)),
    )
    people = person_engagement.transform(silver, DAY).select(
        "email_id",
        "recency_days",
        "frequency_30d",
        "frequency_90d",
        "bounces_90d",
        "engagement_score",
    )
    assertDataFrameEqual(
        people,
        [
            # 50 * exp(0) + 50 * (1 + 3 * 2) / 20
            Row(
                email_id="e1",
                recency_days=0,
                frequency_30d=3,
                frequency_90d=3,
                bounces_90d=0,
                engagement_score=67.5,
            ),  # fmt: skip
            # 50 * exp(-60 / 30) + 50 * 1 / 20 = 6.77 + 2.5
            Row(
                email_id="e2",
                recency_days=60,
                frequency_30d=0,
                frequency_90d=1,
                bounces_90d=0,
                engagement_score=9.3,
            ),  # fmt: skip
            Row(
                email_id="e3",
                recency_days=None,
                frequency_30d=0,
                frequency_90d=0,
                bounces_90d=1,
                engagement_score=0.0,
            ),  # fmt: skip
        ],
        checkRowOrder=False,
    )


def test_person_sessions_split_on_gaps_longer_than_30_minutes(spark: SparkSession) -> None:
    silver = silver_df(
        spark,
        ("c1", "e1", "open", at(DAY, 10, 0)),
        ("c1", "e1", "bounce", at(DAY, 10, 10)),  # not activity
        ("c2", "e1", "click", at(DAY, 10, 20)),
        ("c2", "e1", "open", at(DAY, 10, 50)),  # exactly 30 minutes later: same session
        ("c1", "e1", "click", at(DAY, 11, 21)),  # 31 minutes later: a new session
        ("c1", "e2", "open", at(DAY, 10, 0)),
    )
    sessions = person_sessions.transform(email_events.transform(silver)).select(
        "email_id", "session_start_at", "session_end_at", "events", "opens", "clicks", "campaigns"
    )
    expected = spark.createDataFrame(
        [
            ("e1", at(DAY, 10), at(DAY, 10, 50), 3, 2, 1, 2),
            ("e1", at(DAY, 11, 21), at(DAY, 11, 21), 1, 0, 1, 1),
            ("e2", at(DAY, 10), at(DAY, 10), 1, 1, 0, 1),
        ],
        "email_id string, session_start_at timestamp, session_end_at timestamp, events long,"
        " opens long, clicks long, campaigns long",
    )
    assertDataFrameEqual(sessions, expected, checkRowOrder=False)


def test_campaign_engagement_counts_each_person_once_over_all_days(spark: SparkSession) -> None:
    day1, day2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
    silver = silver_df(
        spark,
        ("c1", "e1", "open", at(day1, 9)),
        ("c1", "e1", "open", at(day2, 9)),  # the same opener on another day: still one
        ("c1", "e2", "open", at(day2, 11)),
        ("c1", "e1", "click", at(day2, 12)),
        ("c1", "e3", "bounce", at(day1, 8)),
        ("c2", "e2", "click", at(day1, 9)),
    )
    expected = spark.createDataFrame(
        [
            ("c1", 3, 2, 1, 1, 1, at(day1, 8), at(day2, 12)),
            ("c2", 0, 0, 1, 1, 0, at(day1, 9), at(day1, 9)),
        ],
        "campaign_id string, opens long, unique_openers long, clicks long, unique_clickers long,"
        " bounces long, first_event_at timestamp, last_event_at timestamp",
    )
    assertDataFrameEqual(campaign_engagement.transform(silver), expected, checkRowOrder=False)
    # The daily table's unique counts, summed, would count e1 twice: the reason this table exists.
    daily = campaign_daily_engagement.transform(silver).where("campaign_id = 'c1'")
    assert daily.agg({"unique_openers": "sum"}).first()[0] == 3


def test_email_events_keep_every_event_with_the_session_it_belongs_to(
    spark: SparkSession,
) -> None:
    silver = silver_df(
        spark,
        ("c1", "e1", "open", at(DAY, 10, 0)),
        ("c1", "e1", "bounce", at(DAY, 10, 10)),
        ("c2", "e1", "click", at(DAY, 10, 20)),
        ("c1", "e1", "click", at(DAY, 11, 21)),
    )
    events = email_events.transform(silver)
    assert events.columns == [*SILVER_SCHEMA.fieldNames(), "session_id"]
    assert events.count() == silver.count()
    sessions = person_sessions.transform(events)
    session_of = {
        (row.campaign_id, row.action): row.session_id
        for row in events.select("campaign_id", "action", "session_id").collect()
    }
    first, second = sorted(sessions.collect(), key=lambda row: row.session_start_at)
    assert session_of[("c1", "open")] == first.session_id
    assert session_of[("c2", "click")] == first.session_id
    assert session_of[("c1", "click")] == second.session_id
    assert session_of[("c1", "bounce")] is None  # not activity: no session


def test_gold_jobs_publish_from_silver_and_rerun_to_the_same_tables(
    spark: SparkSession, lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert email_activity.main(silver_argv(lake)) == 0

    def run_all() -> dict[str, list[Row]]:
        published = {}
        for job in GOLD_JOBS:  # each reads silver, or (person_sessions) gold email_events
            output = lake / "gold" / job.APP_NAME
            source = str(lake / job.INPUT)
            argv = ["--input", source, "--output", str(output), "--run-date", "2024-01-06"]
            assert job.main([*argv, "--master", "local[1]"]) == 0
            table = spark.read.format("delta").load(str(output))
            published[job.APP_NAME] = sorted(table.collect())
        return published

    first = run_all()
    versions = {name: last_commit(lake / "gold" / name)["version"] for name in first}
    assert run_all() == first  # the same contents, as one more version of each table
    assert all(last_commit(lake / "gold" / n)["version"] == v + 1 for n, v in versions.items())
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    silver_rows = summaries[0]["rows_written"]
    assert [s["rows_written"] for s in summaries[1:]] == [
        silver_rows,  # email_events: every silver event
        1,  # campaign_engagement: c1
        2,  # campaign_daily_engagement: c1 on 2024-01-01 and on 2024-01-06
        4,  # person_engagement: e1, e2, e4, e5
        4,  # person_sessions: one open each, one session each
    ] * 2
