"""The Spark side of the lake comparison: the lake's own job (spark_jobs/lake.py), a full rebuild
of the whole history against the daily incremental run, timed apart from Spark's fixed start.

``--bronze`` is a bronze folder of several ingestions (``ingest_date=...`` partitions). In one
session:

* **full**: ``lake.run(full_refresh=True)`` over every ingestion: what DuckDB's same transforms
  (lake_duckdb) are compared with;
* **daily**: a second lake built from every ingestion but the last (untimed: the history), then
  the last ingestion arrives and ``lake.run()`` merges only it: the daily incremental run.

Both lakes read the bench's bronze through symbolic links, one per ingestion. Their tables' row
counts must agree (``same_counts``): an incremental run that is fast because it is wrong does not
count.

    python -m testbench.benchmark.lake_spark --bronze data/lake/bronze/email_activity \\
        --output out/ --run-date 2026-06-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

from testbench.benchmark.measure import emit


def _bronze_of(root: Path, ingestions: list[Path]) -> None:
    """Give the lake at ``root`` a bronze folder that holds ``ingestions`` (links, no copies)."""
    bronze = root / "bronze" / "email_activity"
    bronze.mkdir(parents=True, exist_ok=True)
    for ingestion in ingestions:
        (bronze / ingestion.name).symlink_to(ingestion.resolve(), target_is_directory=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bronze", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--run-date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    args = parser.parse_args(argv)
    ingestions = sorted(args.bronze.glob("ingest_date=*"))
    if len(ingestions) < 2:
        print(
            f"lake_spark: {args.bronze} holds {len(ingestions)} ingestion(s); the daily run "
            "needs a history and a new day: land email activity on two dates",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.perf_counter()
    from deltalake import DeltaTable

    from spark_jobs import lake
    from spark_jobs.delta_io import LAKE_TABLES
    from spark_jobs.session import build_session

    shutil.rmtree(args.output, ignore_errors=True)
    spark = build_session(f"bench_lake {args.run_date}", args.master)
    session_s = time.perf_counter() - started
    full, daily = lake.Lake(args.output / "full"), lake.Lake(args.output / "daily")
    try:
        _bronze_of(full.root, ingestions)
        began = time.perf_counter()
        full_summary = lake.run(spark, full, full_refresh=True)
        full_s = time.perf_counter() - began

        _bronze_of(daily.root, ingestions[:-1])
        began = time.perf_counter()
        lake.run(spark, daily, full_refresh=True)
        history_s = time.perf_counter() - began
        _bronze_of(daily.root, ingestions[-1:])
        began = time.perf_counter()
        daily_summary = lake.run(spark, daily)
        incremental_s = time.perf_counter() - began
    finally:
        spark.stop()
    counts = {
        root: {
            table: DeltaTable(str(root / table)).to_pyarrow_dataset().count_rows()
            for table in LAKE_TABLES
        }
        for root in (full.root, daily.root)
    }
    emit(
        {
            "records": full_summary["rows_read"],  # every bronze row, read by the full rebuild
            "session_s": round(session_s, 3),
            "jobs_s": round(full_s, 3),  # the full rebuild: what DuckDB is compared with
            "history_s": round(history_s, 3),
            "incremental_s": round(incremental_s, 3),
            "incremental_rows_read": daily_summary["rows_read"],
            "new_day": ingestions[-1].name.split("=", 1)[1],
            "same_counts": counts[full.root] == counts[daily.root],
            "table_rows": counts[full.root],
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
