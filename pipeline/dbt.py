"""How the pipeline invokes dbt: one set of settings for every way dbt runs.

dbt runs two ways: the CLI's ``pipeline transform`` runs one ``dbt build`` (``pipeline.steps``),
and the Airflow DAG runs one task per model through astronomer-cosmos (``dags/``). Both take the
project, the profile and the environment from here, so the warehouse, the lake, the business rule
and the people-hash key dbt sees are always those of ``pipeline.config``.

This module imports neither dbt nor cosmos: the DAG file imports it while the scheduler parses.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import Settings

PROFILE_NAME = "campaign_pipeline"  # dbt_project/profiles.yml
TARGET_NAME = "dev"


def profiles_yml(settings: Settings) -> Path:
    return settings.dbt_project_dir / "profiles.yml"


def dbt_dir(settings: Settings) -> Path:
    """dbt's artifacts and logs live with the run's data, not in the source tree."""
    return settings.data_dir / "dbt"


def manifest_path(settings: Settings) -> Path:
    """The manifest the DAG renders its dbt tasks from, written by ``pipeline prepare``.

    Apart from dbt's own ``target/``, which every ``dbt`` command rewrites: the scheduler may read
    this file at any moment, so it is only ever replaced whole.
    """
    return dbt_dir(settings) / "manifest.json"


def manifest_is_current(settings: Settings) -> bool:
    """Whether the published manifest is newer than every file of the dbt project."""
    manifest = manifest_path(settings)
    if not manifest.exists():
        return False
    project = settings.dbt_project_dir
    skipped = {project / "target", project / "logs", project / "dbt_packages"}
    newest = max(
        (
            path.stat().st_mtime
            for path in project.rglob("*")
            if path.is_file() and not any(folder in path.parents for folder in skipped)
        ),
        default=0.0,
    )
    return manifest.stat().st_mtime >= newest


def dbt_executable() -> str:
    """The ``dbt`` of this environment (beside the interpreter), not whatever is on PATH."""
    import sys

    return str(Path(sys.executable).with_name("dbt"))


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment variables dbt's project and profile read, from the configuration.

    ``PEOPLE_HASH_KEY`` is a secret in production: the DAG never puts these values into a task's
    arguments (they would be stored with the serialized DAG and shown in the UI); each dbt task
    reads them here when it starts (see ``export_dbt_env``).
    """
    return {
        "WAREHOUSE_PATH": str(settings.warehouse_path.resolve()),
        "LAKE_ROOT": str(settings.lake_root.resolve()),
        "ATTRIBUTION_WINDOW_DAYS": str(settings.attribution_window_days),
        "PEOPLE_HASH_KEY": settings.people_hash_key,
        # profiles.yml finds the project's dbt-duckdb plugins (dbt_project/plugins/) through it.
        "DBT_PROJECT_DIR": str(settings.dbt_project_dir.resolve()),
        "DBT_LOG_PATH": str(dbt_dir(settings).resolve() / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_artifacts_env(settings: Settings) -> dict[str, str]:
    """Where a ``dbt`` command of the CLI writes its artifacts (cosmos keeps its own per task)."""
    return {"DBT_TARGET_PATH": str(dbt_dir(settings).resolve() / "target")}


def export_dbt_env(context=None) -> None:
    """A task's ``pre_execute`` hook: dbt, run in the task's process, reads this environment."""
    from pipeline.config import get_settings

    os.environ.update(dbt_env(get_settings()))


def release_warehouse() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open in this process after dbt ran in it.

    With InvocationMode.DBT_RUNNER dbt runs inside the task's process, and dbt-duckdb keeps its
    connection (read-write) for the life of the process. Under `airflow dags test` every task runs
    in one process, so the next task that opens the warehouse (read-only, or from a connector's
    process) would fail or wait on it.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt never ran here
        return
    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


def cosmos_cache_dir(settings: Settings) -> Path:
    """Where cosmos keeps dbt's partial-parse cache (AIRFLOW__COSMOS__CACHE_DIR)."""
    return dbt_dir(settings).resolve() / "cosmos"


def seed_cosmos_cache(settings: Settings, dag_id: str, group_id: str) -> None:
    """Give cosmos the partial parse `dbt parse` just wrote (with cosmos' own --profile and
    --target, which dbt's partial-parse state includes), so that its first task does not parse
    the whole project again. Cosmos keeps it per DAG and group: ``<cache>/<dag>__<group>/target``.
    """
    import shutil

    target = Path(dbt_artifacts_env(settings)["DBT_TARGET_PATH"])
    cached = cosmos_cache_dir(settings) / f"{dag_id}__{group_id}" / "target"
    cached.mkdir(parents=True, exist_ok=True)
    for name in ("partial_parse.msgpack", "manifest.json"):
        if (target / name).exists():
            shutil.copyfile(target / name, cached / f"{name}.tmp")
            os.replace(cached / f"{name}.tmp", cached / name)


def record_dbt_task(context) -> None:
    """A dbt task's success or failure callback: closes dbt's connection to the warehouse (see
    ``release_warehouse``) and writes the task's line in the run's log, which the run report and
    the summary read (the CLI's `dbt build` is recorded as one step, build_warehouse)."""
    import time

    release_warehouse()

    from pipeline.config import get_settings
    from pipeline.runlog import pipeline_run_id, record_step

    ti = context["ti"]
    started = ti.start_date.timestamp() if ti.start_date else time.time()
    record_step(
        get_settings().runs_dir,
        pipeline_run_id(context),
        "dbt " + ti.task_id.split(".", 1)[-1],
        "failed" if context.get("exception") else "success",
        started,
        time.time() - started,
        {"task": ti.task_id},
    )
