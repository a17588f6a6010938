"""The whole lake in one Spark application: silver from bronze, then every gold table.

Each job keeps its own entry point (``spark-submit spark_jobs/<job>.py``) for running it alone.
The pipeline runs them through this one instead, because every ``spark-submit`` pays Spark's fixed
start (a JVM, a session: tens of seconds here) and at this data size that cost dominates. The jobs
run in order in one session: each job's ``main`` sees the active session and leaves it running.

    spark-submit spark_jobs/lake.py --lake-root data/lake --run-date 2026-06-01 --master local[*]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from spark_jobs import (
    campaign_daily_engagement,
    campaign_engagement,
    email_activity,
    email_events,
    person_engagement,
    person_sessions,
)
from spark_jobs.session import build_session

GOLD_JOBS = (
    email_events,
    campaign_engagement,
    campaign_daily_engagement,
    person_engagement,
    person_sessions,
)


def job_argv(lake_root: Path) -> list[tuple[object, list[str]]]:
    """Each job of the lake, in order, with its ``--input`` and ``--output`` under ``lake_root``."""
    silver = str(lake_root / "silver" / "email_activity")
    jobs: list[tuple[object, list[str]]] = [
        (
            email_activity,
            [
                "--input",
                str(lake_root / "bronze" / "email_activity"),
                "--output",
                silver,
                "--quarantine",
                str(lake_root / "quarantine" / "email_activity"),
            ],
        )
    ]
    for job in GOLD_JOBS:  # in order: person_sessions reads what email_events publishes
        source = str(lake_root / job.INPUT)
        jobs.append((job, ["--input", source, "--output", str(lake_root / "gold" / job.APP_NAME)]))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lake-root", required=True, type=Path, help="the lake's root folder")
    parser.add_argument("--run-date", type=dt.date.fromisoformat, help="the logical date")
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    args = parser.parse_args(argv)
    common = ["--master", args.master]
    if args.run_date:
        common += ["--run-date", args.run_date.isoformat()]
    spark = build_session("lake", args.master)
    try:
        for job, arguments in job_argv(args.lake_root):
            code = job.main([*arguments, *common])
            if code != 0:
                return code
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
