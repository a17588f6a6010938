"""The Airflow DAG: it imports cleanly, is wired as documented, and follows production practice."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
DAGS = PROJECT / "dags"

# Airflow reads its configuration once, on first import: point it at a throwaway home first.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"

HEAVY_MODULES = ["duckdb", "pyspark", "great_expectations", "airbyte_cdk", "dbt", "pandas"]
DBT_OPERATORS = {"DbtRunLocalOperator", "DbtSeedLocalOperator", "DbtTestLocalOperator"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A data folder with the dbt manifest `pipeline prepare` writes (a real `dbt parse`)."""
    from pipeline.config import get_settings
    from pipeline.steps import write_dbt_manifest

    data = tmp_path_factory.mktemp("dag-data")
    os.environ["PIPELINE_DATA_DIR"] = str(data)
    write_dbt_manifest(get_settings())
    return data


@pytest.fixture(scope="module")
def manifest(data_dir):
    import orjson

    return orjson.loads((data_dir / "dbt" / "manifest.json").read_bytes())


@pytest.fixture(scope="module")
def dagbag(data_dir):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "campaign_pipeline" in dagbag.dags


def _warehouse(dag) -> dict:
    return {task.task_id: task for task in dag.tasks if task.task_id.startswith("warehouse.")}


def test_pipeline_is_wired_in_order(dagbag):
    dag = dagbag.dags["campaign_pipeline"]
    downstream = {task.task_id: set(task.downstream_task_ids) for task in dag.tasks}
    upstream = {task.task_id: set(task.upstream_task_ids) for task in dag.tasks}
    closing = {"write_report", "fail_if_a_step_failed"}
    warehouse = _warehouse(dag)
    # The warehouse's first tasks wait for both gates; its last task is the one `dbt test`.
    first = {task_id for task_id in warehouse if not upstream[task_id] & set(warehouse)}
    last = {task_id for task_id in warehouse if not downstream[task_id] & set(warehouse)}
    assert last == {"warehouse.dbt_project_test"}
    for task_id in first:
        assert upstream[task_id] == {"check_raw", "lake.maintain_lake"}, task_id
    outside = {task_id: ids for task_id, ids in downstream.items() if task_id not in warehouse}
    assert outside == {
        "ingest.extract_load_mailchimp": {"check_raw"} | closing,
        "ingest.extract_load_hubspot": {"check_raw"} | closing,
        "ingest.extract_load_google_sheets": {"check_raw"} | closing,
        "check_raw": first | closing,
        # a group's inner task reaches the closing tasks through the group's last task
        "lake.land_email_events": {"lake.build_lake"},
        "lake.build_lake": {"lake.check_lake"},
        "lake.check_lake": {"lake.maintain_lake"},
        "lake.maintain_lake": first | closing,
        "check_marts": {"publish_snapshot"} | closing,
        "publish_snapshot": closing,
        "write_report": set(),
        "fail_if_a_step_failed": set(),
    }
    assert downstream["warehouse.dbt_project_test"] == {"check_marts"} | closing


def test_dbt_models_appear_as_tasks_in_dbt_order(dagbag, manifest):
    """Cosmos renders every model and seed of the manifest as a task, wired as dbt's graph."""
    dag = dagbag.dags["campaign_pipeline"]
    warehouse = _warehouse(dag)
    nodes = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed"}
        and node["package_name"] == "campaign_pipeline"
    }
    suffix = {"model": "_run", "seed": "_seed"}
    expected = {f"warehouse.{name}{suffix[node['resource_type']]}" for name, node in nodes.items()}
    assert expected | {"warehouse.dbt_project_test"} == set(warehouse)
    assert "warehouse.campaign_performance_run" in warehouse
    assert "warehouse.int_people_unified_run" in warehouse
    # dbt's lineage is the tasks' lineage: a model's task follows the tasks of what it reads.
    for name, node in nodes.items():
        if node["resource_type"] != "model":
            continue
        parents = {
            manifest["nodes"][parent]["name"]
            for parent in node["depends_on"]["nodes"]
            if parent.startswith(("model.", "seed."))
        }
        task = warehouse[f"warehouse.{name}_run"]
        upstream = {
            task_id.split(".", 1)[1].rsplit("_", 1)[0]
            for task_id in task.upstream_task_ids
            if task_id.startswith("warehouse.")
        }
        assert parents <= upstream, name
    # Ephemeral models are compiled into their readers: nothing to run, an empty task.
    ephemeral = {n for n, node in nodes.items() if node["config"]["materialized"] == "ephemeral"}
    assert ephemeral
    for name in ephemeral:
        assert type(warehouse[f"warehouse.{name}_run"]).__name__ == "EmptyOperator"


def test_a_failed_step_still_gets_a_report_and_fails_the_run(dagbag):
    dag = dagbag.dags["campaign_pipeline"]
    assert dag.get_task("write_report").trigger_rule == "all_done"
    assert dag.get_task("fail_if_a_step_failed").trigger_rule == "one_failed"


def test_producers_declare_their_assets(dagbag):
    dag = dagbag.dags["campaign_pipeline"]
    produced = {outlet.name for task in dag.tasks for outlet in getattr(task, "outlets", []) or []}
    assert {"warehouse.raw_mailchimp", "warehouse.raw_hubspot", "warehouse.marts"} <= produced


def test_tasks_follow_production_practice(dagbag):
    dag = dagbag.dags["campaign_pipeline"]
    assert dag.max_active_runs == 1, "one run at a time: the warehouse has one writer"
    assert dag.catchup is False
    assert dag.doc_md and "campaign" in dag.doc_md.lower()
    for task in dag.tasks:
        if task.task_id == "fail_if_a_step_failed":  # it fails on purpose; retrying is pointless
            assert task.retries == 0
            continue
        assert task.retries >= 1, task.task_id
        assert task.execution_timeout is not None, task.task_id
        assert task.execution_timeout <= timedelta(hours=1), task.task_id
    writers = {
        "ingest.extract_load_mailchimp",
        "ingest.extract_load_hubspot",
        "ingest.extract_load_google_sheets",
    }
    writers |= {t.task_id for t in dag.tasks if type(t).__name__ in DBT_OPERATORS}
    assert len(writers) > 10, "every dbt model is a warehouse writer"
    for task_id in writers:
        assert dag.get_task(task_id).pool == "duckdb_writer", task_id


def test_dbt_tasks_run_in_process_and_keep_secrets_out_of_the_dag(dagbag):
    """DBT_RUNNER (no dbt start-up per task), no `dbt deps`; the environment dbt needs is set
    when the task starts, never stored in the serialized DAG (PEOPLE_HASH_KEY is a secret)."""
    dag = dagbag.dags["campaign_pipeline"]
    dbt_tasks = [t for t in dag.tasks if type(t).__name__ in DBT_OPERATORS]
    for task in dbt_tasks:
        assert task.invocation_mode.value == "dbt_runner", task.task_id
        assert task.install_deps is False, task.task_id
        assert not task.env or "PEOPLE_HASH_KEY" not in task.env, task.task_id
        assert task._pre_execute_hook is not None, task.task_id


def test_a_dbt_task_is_given_its_environment_from_its_process_configuration(
    dagbag, data_dir, monkeypatch
):
    """When a dbt task starts, its pre_execute hook reads the task process's configuration and
    gives it to cosmos as the task's env: the process's os.environ is left alone, and the secret
    stays out of what cosmos shows with the task's rendered fields."""
    from pipeline.dbt import set_dbt_task_env

    dag = dagbag.dags["campaign_pipeline"]
    task = copy.copy(dag.get_task("warehouse.campaign_performance_run"))
    assert task._pre_execute_hook is set_dbt_task_env
    monkeypatch.setenv("ATTRIBUTION_WINDOW_DAYS", "12")
    monkeypatch.setenv("PEOPLE_HASH_KEY", "a-secret-of-the-deployment")
    before = dict(os.environ)
    set_dbt_task_env({"task": task})
    assert dict(os.environ) == before
    assert task.env["ATTRIBUTION_WINDOW_DAYS"] == "12"
    assert task.env["WAREHOUSE_PATH"] == str((data_dir / "warehouse.duckdb").resolve())
    assert "PEOPLE_HASH_KEY" not in task.env
    assert "a-secret-of-the-deployment" not in task.env.values()


def test_without_a_manifest_the_warehouse_is_one_dbt_build(tmp_path, data_dir):
    """Before `pipeline prepare`, the DAG still loads: one `dbt build` task, no dbt at parse."""
    from airflow.dag_processing.dagbag import DagBag

    os.environ["PIPELINE_DATA_DIR"] = str(tmp_path)
    try:
        bag = DagBag(dag_folder=str(DAGS))
    finally:
        os.environ["PIPELINE_DATA_DIR"] = str(data_dir)
    assert bag.import_errors == {}
    warehouse = _warehouse(bag.dags["campaign_pipeline"])
    assert set(warehouse) == {"warehouse.build_warehouse"}
    assert warehouse["warehouse.build_warehouse"].pool == "duckdb_writer"


def test_dag_module_imports_no_heavy_library(data_dir):
    """The scheduler parses DAG files often: heavy imports belong inside the tasks.

    Cosmos itself is imported while parsing (it builds the dbt tasks), but dbt is not: the tasks
    come from the manifest.
    """
    probe = (
        "import runpy, sys\n"
        f"runpy.run_path({str(DAGS / 'campaign_pipeline.py')!r})\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
