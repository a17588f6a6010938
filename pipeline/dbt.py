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
from pipeline.executables import console_script

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
    return console_script("dbt")


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment variables dbt's project and profile read, from the configuration."""
    return {
        **dbt_task_env(settings),
        # Read by dbt_project/plugins/people_hash_key.py on each connection (never in SQL).
        "PEOPLE_HASH_KEY": settings.people_hash_key,
    }


def dbt_task_env(settings: Settings) -> dict[str, str]:
    """What a dbt task of the DAG is given on top of its process's environment: ``dbt_env``
    without the secret ``PEOPLE_HASH_KEY``, which a task inherits from its process (see
    ``set_dbt_task_env``)."""
    return {
        "WAREHOUSE_PATH": str(settings.warehouse_path.resolve()),
        "LAKE_ROOT": str(settings.lake_root.resolve()),
        "ATTRIBUTION_WINDOW_DAYS": str(settings.attribution_window_days),
        # profiles.yml finds the project's dbt-duckdb plugins (dbt_project/plugins/) through it.
        "DBT_PROJECT_DIR": str(settings.dbt_project_dir.resolve()),
        "DBT_LOG_PATH": str(dbt_dir(settings).resolve() / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_artifacts_env(settings: Settings) -> dict[str, str]:
    """Where a ``dbt`` command of the CLI writes its artifacts (cosmos keeps its own per task)."""
    return {"DBT_TARGET_PATH": str(dbt_dir(settings).resolve() / "target")}


def set_dbt_task_env(context) -> None:
    """A cosmos dbt task's ``pre_execute`` hook: the task's ``env`` (cosmos' own parameter, the
    variables it gives dbt on top of the task process's environment), built from the settings of
    the task's process when it starts.

    Not at parse time: a value given to the operator there is stored with the serialized DAG.
    Cosmos shows a task's ``env`` with its rendered fields after it ran, so the secret
    ``PEOPLE_HASH_KEY`` is not in it: dbt reads it from the task process's environment, where the
    deployment set it (unset, both this configuration and the plugin use the development key).
    """
    from pipeline.config import get_settings

    context["task"].env = dbt_task_env(get_settings())


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
