"""The pipeline's steps: the one library that the CLI and the Airflow DAG both call.

Each step is an ordinary function: it takes the configuration (a ``pipeline.config.Settings``) as
its first argument, does one stage's work by calling that stage's own code (connectors, Spark job,
dbt, GX), and returns a small dict of metrics. A DAG task is a one-line call of one of these; so is
a CLI command. No step reads the environment: each child process it starts gets an environment
built from its settings.

Data flows one way:
    mock APIs -> connectors -> raw_* (DuckDB) -> dbt -> marts
    email activity -> connector -> lake bronze -> Spark -> silver -> gold -> dbt
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.executables import console_script

log = logging.getLogger(__name__)


class StepError(RuntimeError):
    """A step failed for a reason it can name (the message is meant for a person)."""


# --- extract and load -------------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """An Airbyte connection: a source, a destination, which streams go through it.

    Email activity is the high-volume data of this world: it goes to the lake (bronze Parquet, then
    Spark), not into the warehouse's raw tables. So MailChimp has two connections, as in Airbyte:
    everything else into DuckDB, and ``email_activity`` into the lake.
    """

    name: str
    source: str  # mailchimp | hubspot | google-sheets
    destination: str  # destination-duckdb | destination-lake
    raw_schema: str | None = None  # where destination-duckdb lands the streams
    streams: tuple[str, ...] | None = None  # only these streams (None: all but `excluded`)
    excluded: tuple[str, ...] = ()

    def source_config(self, settings: Settings) -> dict[str, Any]:
        if self.source == "mailchimp":
            return {"apikey": settings.mailchimp_api_key, "base_url": settings.mailchimp_base_url}
        if self.source == "google-sheets":
            return google_sheets_config(settings)
        return {
            "access_token": settings.hubspot_access_token,
            "base_url": settings.hubspot_base_url,
        }

    def destination_config(self, settings: Settings, run_date: date) -> dict[str, Any]:
        if self.destination == "destination-lake":
            # The logical date is the partition, so a rerun of a date lands in the same place.
            return {"lake_root": str(settings.lake_root), "ingest_date": run_date.isoformat()}
        return {"destination_path": str(settings.warehouse_path), "schema": self.raw_schema}

    def selects(self, stream: str) -> bool:
        if self.streams is not None:
            return stream in self.streams
        return stream not in self.excluded


EVENT_STREAMS = ("email_activity",)

CONNECTIONS: dict[str, Connection] = {
    "mailchimp": Connection(
        "mailchimp", "mailchimp", "destination-duckdb", "raw_mailchimp", excluded=EVENT_STREAMS
    ),
    "hubspot": Connection("hubspot", "hubspot", "destination-duckdb", "raw_hubspot"),
    # The marketing team's spreadsheet (spend, targets): every tab read whole, tables replaced.
    "google_sheets": Connection(
        "google_sheets", "google-sheets", "destination-duckdb", "raw_google_sheets"
    ),
    "mailchimp_events": Connection(
        "mailchimp_events", "mailchimp", "destination-lake", streams=EVENT_STREAMS
    ),
}


def google_sheets_config(settings: Settings) -> dict[str, Any]:
    """source-google-sheets' config: a service account when its key file is configured, else the
    OAuth client; snake_case names, so tabs land as ``raw_google_sheets.campaign_spend``."""
    if settings.google_service_account_json:
        credentials = {
            "auth_type": "Service",
            "service_account_info": settings.google_service_account_json,
        }
    else:
        credentials = {
            "auth_type": "Client",
            "client_id": settings.google_client_id,
            "client_secret": settings.google_client_secret,
            "refresh_token": settings.google_refresh_token,
        }
    return {
        "spreadsheet_id": settings.google_spreadsheet_id,
        "credentials": credentials,
        "base_url": settings.google_sheets_base_url,
        "token_uri": settings.google_token_uri,
        "names_conversion": True,
    }


def extract_load(
    settings: Settings,
    connection: str,
    run_date: date | None = None,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, Any]:
    """Run one Airbyte connection: its source read, piped into its destination.

    ``progress`` is called with the records per stream so far (the CLI's progress bars).
    """
    from pipeline import sync

    if connection not in CONNECTIONS:
        raise StepError(
            f"unknown connection {connection!r}: choose one of {', '.join(CONNECTIONS)}"
        )
    link = CONNECTIONS[connection]
    source_config = link.source_config(settings)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    # The connectors get the inherited environment only: their configuration is in their files.
    env = settings.child_env()
    discovered = sync.discover(
        f"source-{link.source}",
        source_config,
        env=env,
        cache=settings.state_dir / f"{connection}.catalog.json",
    )
    streams = [stream["name"] for stream in discovered["streams"] if link.selects(stream["name"])]
    result = sync.run_sync(
        f"source-{link.source}",
        source_config,
        link.destination_config(settings, run_date or date.today()),
        sync.configure_catalog(
            discovered, streams, append_only=link.destination == "destination-lake"
        ),
        state_path=settings.state_dir / f"{connection}.json",
        destination=link.destination,
        progress=progress,
        env=env,
    )
    log.info("synced %s: %s records %s", connection, result.records, result.records_per_stream)
    return {"records": result.records, "records_per_stream": result.records_per_stream}


# --- lake -------------------------------------------------------------------------------------

SPARK_JOBS_DIR = PROJECT_ROOT / "spark_jobs"


def spark_submit_command(
    settings: Settings, run_date: date, *, full_refresh: bool = False
) -> list[str]:
    """The ``spark-submit`` of the whole lake: local mode by default, a cluster by SPARK_MASTER.

    The same command either way (docker-compose.yml sets SPARK_MASTER to its standalone master):
    in client mode the driver runs here, the executors on the cluster's workers, which see the
    lake at the same path (a shared volume).
    """
    from spark_jobs.session import DELTA_PACKAGE, IVY_CACHE

    return [
        console_script("spark-submit"),
        "--master",
        settings.spark_master,
        # spark-submit starts the JVM before the job's own session builder runs: the table
        # format's jars must be named here (the builder's spark.jars.packages is too late).
        "--packages",
        DELTA_PACKAGE,
        "--conf",
        f"spark.jars.ivy={IVY_CACHE}",
        "--driver-memory",
        settings.spark_driver_memory,
        "--name",
        f"lake {run_date.isoformat()}",
        str(SPARK_JOBS_DIR / "lake.py"),
        "--lake-root",
        str(settings.lake_root.resolve()),
        "--run-date",
        run_date.isoformat(),
        # The jobs build their session from their own --master: it must agree.
        "--master",
        settings.spark_master,
        *(["--full-refresh"] if full_refresh else []),
    ]


def build_lake(settings: Settings, run_date: date, full_refresh: bool = False) -> dict[str, Any]:
    """Bronze -> silver -> gold with Spark: the bronze that arrived since the last run, merged.

    One ``spark-submit`` of ``spark_jobs/lake.py`` runs the lake in one Spark application (local
    mode here, the same command on a cluster): Spark's fixed start is paid once. With
    ``full_refresh`` every table is rebuilt from all of bronze.
    """
    command = spark_submit_command(settings, run_date, full_refresh=full_refresh)
    # The driver runs this environment's Python, so the jobs' imports resolve.
    env = settings.child_env(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    output = _run(command, env=env, what="the Spark lake jobs")
    # The run prints one JSON summary line: what it read and each table's commit.
    return next(orjson.loads(line) for line in output.splitlines() if line.startswith('{"job"'))


def maintain_lake(settings: Settings) -> dict[str, Any]:
    """Compact each lake table's small files (``OPTIMIZE``), then ``VACUUM`` what no version needs.

    Incremental runs add a few small files per table each time; compaction rewrites them into
    fewer, larger ones (a new version with the same rows). ``VACUUM`` deletes the files that no
    version of the time-travel window (:data:`spark_jobs.delta_io.RETENTION_HOURS`, a week) still
    needs. Done with delta-rs, no Spark session: seconds. Returns the files before and after.
    """
    from deltalake import DeltaTable

    from spark_jobs.delta_io import LAKE_TABLES, RETENTION_HOURS

    tables = {}
    for name in LAKE_TABLES:
        path = settings.lake_root / name
        if not DeltaTable.is_deltatable(str(path)):
            continue
        table = DeltaTable(str(path))
        before = len(table.file_uris())
        on_disk = _parquet_files(path)
        compacted = table.optimize.compact()
        removed = table.vacuum(retention_hours=RETENTION_HOURS, dry_run=False)
        tables[name] = {
            "version": table.version(),
            "files_before": before,
            "files_after": len(table.file_uris()),
            "files_on_disk_before": on_disk,
            "files_on_disk_after": _parquet_files(path),
            "compacted": compacted.get("numFilesRemoved", 0),
            "vacuumed": len(removed),
        }
    return {"tables": tables, "retention_hours": RETENTION_HOURS}


def _parquet_files(table: Path) -> int:
    return sum(1 for _ in table.rglob("*.parquet"))


def _lake_table(settings: Settings, table: str):  # -> deltalake.DeltaTable
    """The Delta table ``table`` of the lake, or a one-line error naming the tables there are."""
    from deltalake import DeltaTable

    from spark_jobs.delta_io import LAKE_TABLES

    if table not in LAKE_TABLES:
        raise StepError(f"unknown lake table {table!r}: choose one of {', '.join(LAKE_TABLES)}")
    path = settings.lake_root / table
    if not DeltaTable.is_deltatable(str(path)):
        raise StepError(f"{path} holds no Delta table yet: run `pipeline lake` first")
    return DeltaTable(str(path))


def lake_history(settings: Settings, table: str) -> dict[str, Any]:
    """The versions of a lake table, newest first: version, when, operation, rows written.

    Read from the transaction log with delta-rs: no Spark session is needed to look.
    """
    versions = [
        {
            "version": commit.get("version"),
            "at": _from_millis(commit.get("timestamp")),
            "operation": commit.get("operation"),
            "rows": _commit_rows(commit.get("operationMetrics") or {}),
        }
        for commit in _lake_table(settings, table).history()
    ]
    return {"table": table, "versions": versions}


def restore_lake_table(settings: Settings, table: str, version: int) -> dict[str, Any]:
    """Roll a lake table back to ``version``: a new commit whose contents are that version's.

    The versions after it stay in the log (a restore is undone by restoring again).
    """
    delta = _lake_table(settings, table)
    latest = delta.version()
    if not 0 <= version <= latest:
        raise StepError(f"{table} has versions 0 to {latest}: no version {version}")
    metrics = delta.restore(version)
    return {"table": table, "restored_to": version, "version": delta.version(), "metrics": metrics}


def _commit_rows(metrics: dict[str, Any]) -> int | None:
    """The rows a commit wrote (a write, a merge's inserted and updated rows), if it says."""
    for key in ("numOutputRows", "num_added_rows"):
        if key in metrics:
            return int(metrics[key])
    return None


def _from_millis(millis: int | None) -> str | None:
    """An epoch-milliseconds timestamp (the Delta log's) as an ISO 8601 UTC string."""
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(timespec="seconds")


# --- warehouse --------------------------------------------------------------------------------


def dbt_command(settings: Settings, *args: str) -> dict[str, Any]:
    """Run a dbt command on the project, pointed at this configuration's warehouse and lake."""
    from pipeline import dbt

    command = [
        dbt.dbt_executable(),
        *args,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
    ]
    env = settings.child_env(**dbt.dbt_env(settings), **dbt.dbt_artifacts_env(settings))
    _run(command, env=env, what=f"dbt {args[0]}")
    return {"command": f"dbt {' '.join(args)}"}


def write_dbt_manifest(settings: Settings) -> dict[str, Any]:
    """``dbt parse``, then publish its manifest: the DAG renders one task per model from it.

    Run before Airflow starts (``pipeline prepare``, ``pipeline run``, ``pipeline up``), so that
    parsing the DAG never runs dbt. The copy is replaced whole: a scheduler may be reading it.
    """
    import shutil

    from pipeline import dbt

    # The profile and target named as cosmos names them: dbt's partial-parse state includes them,
    # so cosmos' first task can start from this parse (pipeline.dbt.seed_cosmos_cache).
    dbt_command(settings, "parse", "--profile", dbt.PROFILE_NAME, "--target", dbt.TARGET_NAME)
    target = Path(dbt.dbt_artifacts_env(settings)["DBT_TARGET_PATH"]) / "manifest.json"
    published = dbt.manifest_path(settings)
    staged = published.with_suffix(".json.tmp")
    shutil.copyfile(target, staged)
    os.replace(staged, published)
    return {"manifest": str(published)}


def build_warehouse(
    settings: Settings, select: str | None = None, exclude: str | None = None
) -> dict[str, Any]:
    """``dbt build``: staging, intermediate and marts, with their tests (or a selection)."""
    chosen = ["--select", select] if select else []
    chosen += ["--exclude", exclude] if exclude else []
    return dbt_command(settings, "build", *chosen)


# --- quality ----------------------------------------------------------------------------------


def check_raw(settings: Settings) -> dict[str, Any]:
    """Great Expectations on the raw tables: a failure stops what reads them."""
    from quality.checks import check_raw as run_checks

    result = run_checks(settings.warehouse_path, settings.quality_dir)
    return {"success": result.success, "statistics": result.statistics}


def check_lake(settings: Settings) -> dict[str, Any]:
    """Great Expectations on the lake's silver events: schema, keys, no missing day."""
    from quality.checks import check_lake as run_checks

    result = run_checks(settings.lake_root, settings.quality_dir)
    return {"success": result.success, "statistics": result.statistics}


def check_marts(settings: Settings) -> dict[str, Any]:
    """Great Expectations on the marts."""
    from quality.checks import check_marts as run_checks

    result = run_checks(settings.warehouse_path, settings.quality_dir)
    return {"success": result.success, "statistics": result.statistics}


# --- publishing -------------------------------------------------------------------------------


def publish_snapshot(settings: Settings, run_id: str) -> dict[str, Any]:
    """The marts as Parquet in a new snapshot folder, made ``current`` atomically: what the
    dashboards read, so that they never hold the warehouse (DuckDB allows one writing process)."""
    from pipeline.snapshot import publish

    return publish(settings, run_id)


def build_dashboard(settings: Settings) -> dict[str, Any]:
    """The dashboards' static site, built from the current snapshot (``dashboards/dist``)."""
    from pipeline.dashboard import build

    return build(settings)


# --- helpers ----------------------------------------------------------------------------------


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    """Run a command; return its stdout, or raise with the end of its output (or, when the
    warehouse is locked, one line naming the process that holds it).

    The command dies with this process (``dies_with_parent``): a killed step leaves no dbt or
    Spark job running, holding the warehouse or the lake.
    """
    from pipeline.processes import dies_with_parent, lock_conflict

    completed = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=dies_with_parent(),  # a prctl call only: nothing between fork and exec locks
    )
    if completed.returncode != 0:
        conflict = lock_conflict(completed.stdout + completed.stderr)
        if conflict:
            raise StepError(f"{what} failed: {conflict}")
        output = (completed.stdout + completed.stderr).strip().splitlines()
        detail = "\n".join(output[-30:])
        raise StepError(f"{what} failed (exit {completed.returncode}):\n{detail}")
    log.debug("%s output:\n%s", what, completed.stdout[-4000:])
    return completed.stdout


def run_step(settings: Settings, run_id: str, name: str, step, /, **kwargs: Any) -> dict[str, Any]:
    """Run ``step(settings, **kwargs)`` and record its status, time and metrics in the run's log."""
    from pipeline.runlog import timed_step

    with timed_step(settings.runs_dir, run_id, name) as metrics:
        metrics.update(step(settings, **kwargs))
    return metrics
