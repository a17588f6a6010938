"""What the gold jobs share: read their input as of the run date, build one table, publish it.

Each gold job is a module with a pure ``transform`` and a ``main``; this module is the I/O around
the transform, so that the jobs differ only in what they compute. Each run republishes the whole
table from silver as one Delta commit, which makes a rerun for a date give the same table. The
aggregates (one row per campaign, campaign-day, person or session) are small and unpartitioned;
email_events, at the event grain, is partitioned by event date like silver.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from spark_jobs.delta_io import publish, read_published
from spark_jobs.email_activity import read_silver
from spark_jobs.harness import Run, job_arguments, run_job

Build = Callable[[DataFrame, argparse.Namespace], DataFrame]
Reader = Callable[[SparkSession, str, dt.date | None], DataFrame]


def gold_main(
    app_name: str,
    doc: str | None,
    build: Build,
    argv: list[str] | None,
    *,
    partition_by: str | None = None,
    reads: Reader = read_silver,
    input_help: str = "the published silver email_activity table",
) -> int:
    """The command line of a gold job that makes its table with ``build(input, args)``.

    The input is silver, read as of the run date, unless ``reads`` says otherwise.
    """
    parser = job_arguments(doc, input_help=input_help)
    return run_job(app_name, parser, _gold_run(build, partition_by, reads), argv)


def _gold_run(build: Build, partition_by: str | None, reads: Reader) -> Run:
    def run(spark: SparkSession, args: argparse.Namespace) -> dict[str, object]:
        table = build(reads(spark, args.input, args.run_date), args)
        commit = publish(table, args.output, partition_by=partition_by)
        rows = read_published(spark, args.output, table.schema).count()
        return {"rows_written": rows, "version": commit["version"]}

    return run
