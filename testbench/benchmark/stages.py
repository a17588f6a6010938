"""The pipeline's own stages, one per process, as ``make run`` runs them (without Airflow).

Each stage calls the step function the DAG and the CLI call (:mod:`pipeline.steps`), against the
replay server, in a data folder of the benchmark's own. ``records`` is what the stage read: the
records synced for an ingestion, the bronze events for the lake, the raw rows for dbt, the raw
rows and silver events for the quality checks.

    PIPELINE_DATA_DIR=... MAILCHIMP_BASE_URL=... HUBSPOT_BASE_URL=... \\
        python -m testbench.benchmark.stages ingest_mailchimp --run-date 2026-06-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from testbench.benchmark.measure import emit

# stage -> the pipeline connection it syncs (ingestion stages)
INGESTIONS = {
    "ingest_mailchimp": "mailchimp",
    "ingest_hubspot": "hubspot",
    # the spend sheet: tiny, but dbt's staging reads its tables
    "ingest_google_sheets": "google_sheets",
    "ingest_email_activity": "mailchimp_events",
}
STAGES = (*INGESTIONS, "lake_spark", "dbt_build", "quality_checks")


def raw_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE 'raw_%' AND table_type = 'BASE TABLE'"
        ).fetchall()
        return sum(
            con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            for schema, table in tables
        )


def parquet_rows(folder: Path) -> int:
    files = list(folder.rglob("*.parquet"))
    if not files:
        return 0
    with duckdb.connect() as con:
        return con.execute(
            "SELECT count(*) FROM read_parquet(?)", [[str(f) for f in files]]
        ).fetchone()[0]


def run_stage(stage: str, run_date: dt.date) -> dict[str, Any]:
    from pipeline import steps
    from pipeline.config import get_settings

    settings = get_settings()
    bronze = settings.lake_root / "bronze" / "email_activity"
    if stage in INGESTIONS:
        result = steps.extract_load(settings, INGESTIONS[stage], run_date=run_date)
        return {"records": result["records"], "per_stream": result["records_per_stream"]}
    actions: dict[str, Callable[[], Any]] = {
        "lake_spark": lambda: steps.build_lake(settings, run_date),
        "dbt_build": lambda: steps.build_warehouse(settings),
        "quality_checks": lambda: [
            steps.check_raw(settings)["success"],
            steps.check_lake(settings)["success"],
            steps.check_marts(settings)["success"],
        ],
    }
    outcome = actions[stage]()
    if stage == "lake_spark":
        return {"records": parquet_rows(bronze), "rows_written": outcome["rows_written"]}
    if stage == "dbt_build":
        return {"records": raw_rows(settings.warehouse_path)}
    return {
        "records": raw_rows(settings.warehouse_path) + parquet_rows(bronze),
        "checks_passed": outcome,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--run-date", required=True, type=dt.date.fromisoformat)
    args = parser.parse_args(argv)
    emit(run_stage(args.stage, args.run_date))
    return 0


if __name__ == "__main__":
    sys.exit(main())
