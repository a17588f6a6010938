"""The whole lake in one Spark application, incrementally: only the bronze that arrived is read.

A run is a Structured Streaming query over bronze's Parquet files with ``trigger(availableNow)``
and a checkpoint (``<lake>/_checkpoints/email_activity``): Spark lists bronze, takes the files no
earlier run committed, processes them as micro-batches and stops. Each micro-batch:

1. merges its valid events into silver on the event key (``MERGE``: a new event is inserted, a
   copy extracted later replaces the one there, the first ingest date is kept so lateness is
   judged once) and its invalid rows into quarantine (insert-only, once per record);
2. recomputes gold only for what the batch touched: the people (email_events and their
   sessions, person_engagement), the campaigns (campaign_engagement) and the campaign-days
   (campaign_daily_engagement) of its events, each merged into its table (rows of a touched slice
   that no longer exist are deleted). person_engagement is recomputed for everyone when the
   as-of date (the newest event date) moves, since every person's recency moves with it.

Each table changes in one Delta commit, and every step is idempotent: a batch that Spark replays
after a crash (its offsets were logged, its commit not) merges to the same tables. A run with no new
bronze changes nothing. ``--full-refresh`` forgets the checkpoint and rebuilds every table from all
of bronze (each a new version that replaces the previous contents): the same tables, by
construction, as the incremental runs give.

Each job keeps its own entry point (``spark-submit spark_jobs/<job>.py``), a full rebuild of its
table, for running it alone.

    spark-submit spark_jobs/lake.py --lake-root data/lake --master local[*] [--full-refresh]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_jobs import (
    campaign_daily_engagement,
    campaign_engagement,
    email_activity,
    email_events,
    person_engagement,
    person_sessions,
)
from spark_jobs.delta_io import is_table, merge_rows, publish, read_published, replace_slice
from spark_jobs.session import build_session

GOLD_JOBS = (
    email_events,
    campaign_engagement,
    campaign_daily_engagement,
    person_engagement,
    person_sessions,
)
CHECKPOINT = "_checkpoints/email_activity"  # under the lake's root
# The record columns of a quarantined row: what makes it the same record when it lands again.
QUARANTINE_KEY = [
    c for c in email_activity.BRONZE_SCHEMA.fieldNames() if c not in email_activity.LANDING_COLUMNS
]


@dataclass(frozen=True)
class Lake:
    """Where the lake's tables are, under one root."""

    root: Path

    @property
    def bronze(self) -> str:
        return str(self.root / "bronze" / "email_activity")

    @property
    def silver(self) -> str:
        return str(self.root / "silver" / "email_activity")

    @property
    def quarantine(self) -> str:
        return str(self.root / "quarantine" / "email_activity")

    @property
    def checkpoint(self) -> Path:
        return self.root / CHECKPOINT

    def gold(self, job: Any) -> str:
        return str(self.root / "gold" / job.APP_NAME)


@dataclass
class Totals:
    """What a run did, summed over its micro-batches: the run's summary line."""

    batches: int = 0
    rows_read: int = 0
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    mark: float = field(default_factory=time.monotonic)

    def add(self, table: str, commit: dict[str, Any]) -> None:
        """Count one table's commit: its version, the rows it inserted, updated and deleted, and
        the seconds since the previous commit (the work that led to this one)."""
        metrics = commit.get("metrics", {})
        seen = self.tables.setdefault(
            table, {"version": None, "inserted": 0, "updated": 0, "deleted": 0, "seconds": 0.0}
        )
        now = time.monotonic()
        seen["seconds"] = round(seen["seconds"] + now - self.mark, 1)
        self.mark = now
        seen["version"] = commit.get("version")
        seen["operation"] = commit.get("operation")
        written = metrics.get("numTargetRowsInserted", metrics.get("numOutputRows", 0))
        seen["inserted"] += int(written or 0)
        seen["updated"] += int(metrics.get("numTargetRowsUpdated", 0) or 0)
        seen["deleted"] += int(metrics.get("numTargetRowsDeleted", 0) or 0)


class Batches:
    """The work of one micro-batch of new bronze rows (``foreachBatch``'s function)."""

    def __init__(self, lake: Lake, *, full_refresh: bool, late_after_days: int) -> None:
        self.lake = lake
        self.full_refresh = full_refresh
        self.late_after_days = late_after_days
        self.totals = Totals()

    def __call__(self, bronze: DataFrame, batch_id: int) -> None:
        # A full refresh replaces each table with its first batch (one overwrite commit), and so
        # does the first batch of a lake that has no silver yet; every other batch merges.
        first = self.totals.batches == 0
        rebuild = first and (self.full_refresh or not is_table(self.lake.silver))
        bronze = bronze.persist()
        try:
            self.totals.rows_read += bronze.count()
            self.totals.mark = time.monotonic()
            events = email_activity.transform(bronze, self.late_after_days).persist()
            self._silver(bronze, events, rebuild)
            self._gold(events, rebuild)
            events.unpersist()
        finally:
            bronze.unpersist()
        self.totals.batches += 1

    def _silver(self, bronze: DataFrame, events: DataFrame, rebuild: bool) -> None:
        lake, totals = self.lake, self.totals
        rejected = email_activity.quarantined(bronze)
        if rebuild:
            totals.add(
                "silver/email_activity", publish(events, lake.silver, partition_by="event_date")
            )
            totals.add(
                "quarantine/email_activity",
                publish(rejected, lake.quarantine, partition_by="ingest_date"),
            )
            return
        totals.add(
            "silver/email_activity",
            merge_silver(events, lake.silver, self.late_after_days),
        )
        totals.add(
            "quarantine/email_activity",
            merge_rows(
                rejected,
                lake.quarantine,
                QUARANTINE_KEY,
                partition_by="ingest_date",
                insert_only=True,
            ),
        )

    def _gold(self, events: DataFrame, rebuild: bool) -> None:
        lake, totals = self.lake, self.totals
        spark = events.sparkSession
        silver = read_published(spark, lake.silver, email_activity.SILVER_SCHEMA)
        people = events.select("email_id").distinct()
        campaigns = events.select("campaign_id").distinct()
        campaign_days = events.select("campaign_id", "event_date").distinct()

        def update(
            job: Any,
            table: DataFrame,
            key: list[str],
            slice_by: list[str],
            touched: DataFrame,
            partition_by: str | None = None,
        ) -> None:
            path = lake.gold(job)
            if rebuild:
                commit = publish(table, path, partition_by=partition_by)
            else:
                commit = replace_slice(
                    table, path, key, slice_by, touched, partition_by=partition_by
                )
            totals.add(f"gold/{job.APP_NAME}", commit)

        def of(frame: DataFrame, touched: DataFrame, slice_by: list[str]) -> DataFrame:
            return frame if rebuild else frame.join(touched, slice_by, "left_semi")

        events_of_people = email_events.transform(of(silver, people, ["email_id"]))
        update(
            email_events,
            events_of_people,
            email_activity.EVENT_KEY,
            ["email_id"],
            people,
            "event_date",
        )
        gold_events = email_events.read_email_events(spark, lake.gold(email_events), None)
        update(
            person_sessions,
            person_sessions.transform(of(gold_events, people, ["email_id"])),
            ["session_id"],
            ["email_id"],
            people,
        )
        update(
            campaign_engagement,
            campaign_engagement.transform(of(silver, campaigns, ["campaign_id"])),
            ["campaign_id"],
            ["campaign_id"],
            campaigns,
        )
        update(
            campaign_daily_engagement,
            campaign_daily_engagement.transform(
                of(silver, campaign_days, ["campaign_id", "event_date"])
            ),
            ["campaign_id", "event_date"],
            ["campaign_id", "event_date"],
            campaign_days,
        )
        # Everyone's recency moves with the as-of date: only while it stands still are the
        # touched people enough.
        as_of = silver.agg(F.max("event_date")).first()[0]
        engagement_table = lake.gold(person_engagement)
        moved = rebuild or as_of != _as_of(spark, engagement_table)
        scored = person_engagement.transform(
            silver if moved else of(silver, people, ["email_id"]), as_of
        )
        if moved:  # everyone rescored: the table replaced
            totals.add("gold/person_engagement", publish(scored, engagement_table))
        else:
            update(person_engagement, scored, ["email_id"], ["email_id"], people)


def merge_silver(events: DataFrame, table: str, late_after_days: int) -> dict[str, Any]:
    """Merge a batch's events into silver on the event key, keeping each event's first ingest date.

    The batch's copy of an event is the one extracted last (``email_activity.transform`` chose it
    within the batch; a later batch holds later extractions), so it replaces silver's; the first
    ingest date stays the earlier of the two, and lateness is judged on it.
    """
    first = "least(t.first_ingest_date, s.first_ingest_date)"
    return merge_rows(
        events,
        table,
        email_activity.EVENT_KEY,
        partition_by="event_date",
        prune="event_date",
        update={
            "first_ingest_date": first,
            "is_late": f"datediff({first}, s.event_date) > {int(late_after_days)}",
        },
    )


def _as_of(spark: SparkSession, table: str) -> Any:
    """The as-of date gold person_engagement was last scored at (None before its first run)."""
    if not is_table(table):
        return None
    return spark.read.format("delta").load(table).agg(F.max("as_of_date")).first()[0]


def run(
    spark: SparkSession,
    lake: Lake,
    *,
    full_refresh: bool = False,
    late_after_days: int = email_activity.DEFAULT_LATE_AFTER_DAYS,
) -> dict[str, Any]:
    """Process the bronze that arrived since the last run (all of it with ``full_refresh``)."""
    started = time.monotonic()
    if full_refresh and lake.checkpoint.exists():
        shutil.rmtree(lake.checkpoint)
    batches = Batches(lake, full_refresh=full_refresh, late_after_days=late_after_days)
    stream = (
        spark.readStream.schema(email_activity.BRONZE_SCHEMA)
        .parquet(lake.bronze)
        .writeStream.foreachBatch(batches)
        .option("checkpointLocation", str(lake.checkpoint))
        .trigger(availableNow=True)
        .start()
    )
    stream.awaitTermination()
    totals = batches.totals
    return {
        "job": "lake",
        "mode": "full_refresh" if full_refresh else "incremental",
        "batches": totals.batches,
        "rows_read": totals.rows_read,
        "rows_written": sum(t["inserted"] + t["updated"] for t in totals.tables.values()),
        "tables": totals.tables,
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lake-root", required=True, type=Path, help="the lake's root folder")
    parser.add_argument("--run-date", help="the logical date (names the Spark application)")
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="forget what earlier runs processed and rebuild every table from all of bronze",
    )
    args = parser.parse_args(argv)
    lake = Lake(args.lake_root)
    if not Path(lake.bronze).is_dir():
        print(f"lake: no bronze at {lake.bronze}: land email activity first", file=sys.stderr)
        return 2
    name = f"lake {args.run_date}" if args.run_date else "lake"
    spark = build_session(name, args.master)
    try:
        summary = run(spark, lake, full_refresh=args.full_refresh)
    finally:
        spark.stop()
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
