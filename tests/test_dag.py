"""The Airflow DAG: it imports cleanly, is wired as documented, and follows production practice."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "campaign_pipeline" in dagbag.dags


def test_pipeline_is_wired_in_order(dagbag):
    dag = dagbag.dags["campaign_pipeline"]
    downstream = {task.task_id: set(task.downstream_task_ids) for task in dag.tasks}
    closing = {"write_report", "fail_if_a_step_failed"}
    assert downstream == {
        "ingest.extract_load_mailchimp": {"check_raw"} | closing,
        "ingest.extract_load_hubspot": {"check_raw"} | closing,
        "check_raw": {"warehouse.build_warehouse"} | closing,
        # a group's inner task reaches the closing tasks through the group's last task
        "lake.land_email_events": {"lake.build_lake"},
        "lake.build_lake": {"lake.check_lake"},
        "lake.check_lake": {"warehouse.build_warehouse"} | closing,
        "warehouse.build_warehouse": {"check_marts"} | closing,
        "check_marts": closing,
        "write_report": set(),
        "fail_if_a_step_failed": set(),
    }


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
        "warehouse.build_warehouse",
    }
    for task_id in writers:
        assert dag.get_task(task_id).pool == "duckdb_writer", task_id


def test_dag_module_imports_no_heavy_library():
    """The scheduler parses DAG files often: heavy imports belong inside the tasks."""
    probe = (
        "import runpy, sys\n"
        f"runpy.run_path({str(DAGS / 'campaign_pipeline.py')!r})\n"
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
