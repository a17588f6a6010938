"""The Spark side of the lake comparison: the jobs of lake_duckdb, timed apart from Spark's
fixed start.

The jobs are the project's own (``spark_jobs``): email_activity silver, then the gold
campaign_daily_engagement, person_engagement, email_events and person_sessions (built from
email_events), run as ``spark_jobs/lake.py`` runs them: in one session, each job's ``main`` with
its ``--input`` and ``--output``. The session's start is timed apart, so the comparison with
DuckDB can be made "after Spark's fixed start".

    python -m bench.lake_spark --bronze data/lake/bronze/email_activity --output out/ \\
        --run-date 2026-06-01
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import shutil
import sys
import time
from pathlib import Path

from bench.measure import emit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bronze", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--run-date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.perf_counter()
    from spark_jobs import (
        campaign_daily_engagement,
        email_activity,
        email_events,
        person_engagement,
        person_sessions,
    )
    from spark_jobs.session import build_session

    shutil.rmtree(args.output, ignore_errors=True)
    spark = build_session("bench_lake", args.master)
    session_s = time.perf_counter() - started
    silver = str(args.output / "silver" / "email_activity")
    common = ["--master", args.master, "--run-date", args.run_date.isoformat()]
    gold = args.output / "gold"
    jobs = [(email_activity, ["--input", str(args.bronze), "--output", silver])]
    for job in (campaign_daily_engagement, person_engagement, email_events):
        jobs.append((job, ["--input", silver, "--output", str(gold / job.APP_NAME)]))
    # person_sessions reads the sessions email_events found (spark_jobs/lake.py's order).
    events = str(gold / email_events.APP_NAME)
    jobs.append((person_sessions, ["--input", events, "--output", str(gold / "person_sessions")]))
    jobs_started = time.perf_counter()
    summaries = io.StringIO()
    try:
        for job, arguments in jobs:
            with contextlib.redirect_stdout(summaries):
                code = job.main([*arguments, *common])
            if code != 0:
                return code
        jobs_s = time.perf_counter() - jobs_started
        bronze_rows = email_activity.read_bronze(spark, str(args.bronze), args.run_date).count()
    finally:
        spark.stop()
    emit({"records": bronze_rows, "session_s": round(session_s, 3), "jobs_s": round(jobs_s, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
