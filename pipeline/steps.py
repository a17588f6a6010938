"""The pipeline's steps: the one library that the CLI and the Airflow DAG both call.

Each step is an ordinary function: it reads the configuration, does one stage's work by calling that
stage's own code (connectors, Spark job, dbt, GX), and returns a small dict of metrics. A DAG task
is a one-line call of one of these; so is a CLI command.

Data flows one way:
    mock APIs -> connectors -> raw_* (DuckDB) -> dbt -> marts
    raw email activity -> lake bronze -> Spark -> lake silver -> dbt
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.config import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)


class StepError(RuntimeError):
    """A step failed for a reason it can name (the message is meant for a person)."""


# --- extract and load -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceConnection:
    """An Airbyte connection: a source connector, its config, and the raw schema it lands in."""

    name: str
    connector: str
    raw_schema: str

    def config(self, settings: Settings) -> dict[str, Any]:
        if self.name == "mailchimp":
            return {"apikey": settings.mailchimp_api_key, "base_url": settings.mailchimp_base_url}
        return {
            "access_token": settings.hubspot_access_token,
            "base_url": settings.hubspot_base_url,
        }


SOURCES: dict[str, SourceConnection] = {
    "mailchimp": SourceConnection("mailchimp", "source-mailchimp", "raw_mailchimp"),
    "hubspot": SourceConnection("hubspot", "source-hubspot", "raw_hubspot"),
}


def extract_load(source: str, settings: Settings | None = None) -> dict[str, Any]:
    """Sync one source into its ``raw_<source>`` schema of the warehouse."""
    from pipeline import airbyte

    settings = settings or get_settings()
    if source not in SOURCES:
        raise StepError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")
    connection = SOURCES[source]
    source_config = connection.config(settings)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    destination_config = {
        "destination_path": str(settings.warehouse_path),
        "schema": connection.raw_schema,
    }
    catalog = airbyte.configure_catalog(airbyte.discover(connection.connector, source_config))
    result = airbyte.run_sync(
        connection.connector,
        source_config,
        destination_config,
        catalog,
        state_path=settings.state_dir / f"{source}.json",
    )
    log.info("synced %s: %s records %s", source, result.records, result.records_per_stream)
    return {"records": result.records, "records_per_stream": result.records_per_stream}


# --- lake -------------------------------------------------------------------------------------


def land_bronze(run_date: date, settings: Settings | None = None) -> dict[str, Any]:
    """Land the raw email activity in the lake's bronze layer, one partition per ingestion date.

    The partition is written beside its final place and renamed into it, so a reader sees either
    the previous partition or the new one, never half of one; landing the same date twice gives
    the same bronze.
    """
    import duckdb

    settings = settings or get_settings()
    bronze = settings.lake_root / "bronze" / "email_activity"
    partition = bronze / f"ingest_date={run_date.isoformat()}"
    staging = bronze / f".ingest_date={run_date.isoformat()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        rows = connection.execute("select count(*) from raw_mailchimp.email_activity").fetchone()[0]
        target = str(staging / "part-0.parquet").replace("'", "''")
        connection.execute(
            f"copy (select * from raw_mailchimp.email_activity) to '{target}' (format parquet)"
        )
    retired = bronze / f".ingest_date={run_date.isoformat()}.old"
    shutil.rmtree(retired, ignore_errors=True)
    if partition.exists():
        partition.rename(retired)
    staging.rename(partition)
    shutil.rmtree(retired, ignore_errors=True)
    return {"rows": rows, "partition": str(partition)}


def build_silver(run_date: date, settings: Settings | None = None) -> dict[str, Any]:
    """Run the Spark job bronze -> silver with ``spark-submit`` (local mode or a cluster)."""
    settings = settings or get_settings()
    lake = settings.lake_root
    job = PROJECT_ROOT / "spark_jobs" / "email_activity.py"
    command = [
        str(Path(sys.executable).with_name("spark-submit")),
        "--master",
        settings.spark_master,
        str(job),
        "--input",
        str(lake / "bronze" / "email_activity"),
        "--output",
        str(lake / "silver" / "email_activity"),
        "--quarantine",
        str(lake / "quarantine" / "email_activity"),
        "--run-date",
        run_date.isoformat(),
        "--master",
        settings.spark_master,
    ]
    # The driver and the workers run this environment's Python, so the job's imports resolve.
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    _run(command, env=env, what="the Spark job email_activity")
    return {"silver": str(lake / "silver" / "email_activity")}


# --- warehouse --------------------------------------------------------------------------------


def dbt_command(*args: str, settings: Settings | None = None) -> dict[str, Any]:
    """Run a dbt command on the project, pointed at this configuration's warehouse and lake."""
    settings = settings or get_settings()
    dbt_dir = settings.data_dir / "dbt"
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
    ]
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(settings.warehouse_path.resolve()),
        "LAKE_ROOT": str(settings.lake_root.resolve()),
        "ATTRIBUTION_WINDOW_DAYS": str(settings.attribution_window_days),
        # Artifacts and logs live with the run's data, not in the source tree.
        "DBT_TARGET_PATH": str(dbt_dir / "target"),
        "DBT_LOG_PATH": str(dbt_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    _run(command, env=env, what=f"dbt {args[0]}")
    return {"command": f"dbt {' '.join(args)}"}


def build_warehouse(settings: Settings | None = None) -> dict[str, Any]:
    """``dbt build``: staging, intermediate and marts, with their tests."""
    return dbt_command("build", settings=settings)


# --- quality ----------------------------------------------------------------------------------


def check_raw(settings: Settings | None = None) -> dict[str, Any]:
    """Great Expectations on the raw tables: a failure stops what reads them."""
    from quality.checks import check_raw as run_checks

    settings = settings or get_settings()
    result = run_checks(settings.warehouse_path, settings.quality_dir)
    return {"success": result.success, "statistics": result.statistics}


def check_marts(settings: Settings | None = None) -> dict[str, Any]:
    """Great Expectations on the marts."""
    from quality.checks import check_marts as run_checks

    settings = settings or get_settings()
    result = run_checks(settings.warehouse_path, settings.quality_dir)
    return {"success": result.success, "statistics": result.statistics}


# --- helpers ----------------------------------------------------------------------------------


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        detail = "\n".join(output[-30:])
        raise StepError(f"{what} failed (exit {completed.returncode}):\n{detail}")
    log.debug("%s output:\n%s", what, completed.stdout[-4000:])


def run_step(run_id: str, name: str, step, /, **kwargs: Any) -> dict[str, Any]:
    """Run one step and record its status, time and metrics in the run's log."""
    from pipeline.runlog import timed_step

    settings = kwargs.get("settings") or get_settings()
    with timed_step(settings.runs_dir, run_id, name) as metrics:
        metrics.update(step(**kwargs))
    return metrics
