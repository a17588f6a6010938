"""The Spark side of the lake comparison: the jobs of lake_duckdb, timed apart from Spark's
fixed start.

The jobs are the project's own, in the list and order ``spark_jobs/lake.py`` runs them
(``lake.job_argv``: email_activity silver, then every gold table), in one session, each job's
``main`` with its ``--input`` and ``--output``. The session's start is timed apart, so the
comparison with DuckDB can be made "after Spark's fixed start".

    python -m testbench.benchmark.lake_spark --bronze data/lake/bronze/email_activity \\
        --output out/ --run-date 2026-06-01
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

from testbench.benchmark.measure import emit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bronze", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--run-date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.perf_counter()
    from spark_jobs import email_activity, lake
    from spark_jobs.session import build_session

    shutil.rmtree(args.output, ignore_errors=True)
    spark = build_session("bench_lake", args.master)
    session_s = time.perf_counter() - started
    # The lake's own job list (spark_jobs/lake.py), over a root whose bronze is the bench's.
    (args.output / "bronze").mkdir(parents=True)
    (args.output / "bronze" / "email_activity").symlink_to(args.bronze.resolve())
    common = ["--master", args.master, "--run-date", args.run_date.isoformat()]
    jobs = lake.job_argv(args.output)
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
