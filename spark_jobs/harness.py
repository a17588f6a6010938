"""The harness every Spark job runs in: its arguments, its session, its summary line and exit codes.

Each job keeps its own ``main(argv) -> int`` (so ``spark-submit spark_jobs/<job>.py`` works) and
hands this module a ``run(spark, args) -> summary`` function holding its extract, transform and
publish.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from spark_jobs.delta_io import NotPublished
from spark_jobs.session import build_session

Run = Callable[[SparkSession, argparse.Namespace], dict[str, object]]


def job_arguments(doc: str | None, *, input_help: str) -> argparse.ArgumentParser:
    """The arguments every job takes: ``--input --output --run-date --master``."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--input", required=True, help=input_help)
    parser.add_argument("--output", required=True, help="the table this job publishes")
    parser.add_argument(
        "--run-date",
        type=dt.date.fromisoformat,
        help="the logical date, YYYY-MM-DD: the job sees the data as of that day (default: all)",
    )
    parser.add_argument(
        "--master",
        default=os.environ.get("SPARK_MASTER", "local[*]"),
        help="Spark master (default: $SPARK_MASTER or local[*])",
    )
    return parser


def run_job(
    app_name: str, parser: argparse.ArgumentParser, run: Run, argv: list[str] | None
) -> int:
    """Parse ``argv``, run the job, print its summary as one JSON line; 2 when input is missing."""
    args = parser.parse_args(argv)
    # Stop the session at the end only if this call started it: a test or a notebook keeps its own.
    owns_session = SparkSession.getActiveSession() is None
    spark = build_session(app_name, args.master)
    try:
        summary = run(spark, args)
    except NotPublished as error:
        print(f"{app_name}: {error}", file=sys.stderr)
        return 2
    except AnalysisException as error:
        if error.getCondition() != "PATH_NOT_FOUND":
            raise
        print(f"{app_name}: no input data at {args.input}", file=sys.stderr)
        return 2
    finally:
        if owns_session:
            spark.stop()
    print(json.dumps({"job": app_name, **summary}))
    return 0
