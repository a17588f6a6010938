"""`make cluster` for real: the production topology on this machine, one start for the module.

`pipeline cluster` starts PostgreSQL (from the OS's packages), Airflow's four components with the
LocalExecutor, a Spark master and two workers, and the mock APIs. The test then does what a person
does: it triggers the DAG through Airflow's REST API and waits. One run, with two faults: the
scheduler is killed (SIGKILL) while an ingestion task runs, and a Spark worker while its executor
runs the lake's tasks. The cluster restarts both (compose's restart policy); the run must still
succeed with marts equal to the mock's truth (the same checks `make run`'s end-to-end test makes, at
the same seed and scale) and load nothing twice. The task instances' start and end times in
PostgreSQL show the ingestion tasks overlapping and the warehouse's writers never overlapping;
Spark's event log shows the lake's tasks on the two workers' executors, and the lost worker's tasks
finished on the other. (A clean run before it, to compare with, would double the module's 9 minutes
on 2 cores: the mock's truth is the reference instead.)

From its start to its stop (Ctrl-C) every listening socket of the cluster's process tree is
watched (testbench/listeners.py): none may be off loopback; after the stop no process is left.
No credential and no generated secret may appear in any output or log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psutil
import pytest
import requests
from deltalake import DeltaTable
from served_truth import (
    assert_every_raw_record_once,
    campaign_performance_differences,
    served_truth,
)

from pipeline.cluster import AirflowApi, ClusterError, postgres_bin_dir
from pipeline.config import Settings
from pipeline.executables import console_script
from testbench.listeners import ListenerWatch
from testbench.support import free_port


def _postgres_installed() -> bool:
    try:
        postgres_bin_dir()
    except ClusterError:
        return False
    return True


pytestmark = [
    pytest.mark.timeout(3600),
    pytest.mark.skipif(
        not _postgres_installed() and not os.environ.get("CI"),
        reason="needs PostgreSQL's server programs (CI installs them: apt-get install postgresql)",
    ),
]

SEED, SCALE = 11, 300  # the end-to-end test's world: the same truth
MAILCHIMP_KEY = "clustertest0mailchimp0secret0000-us3"
HUBSPOT_TOKEN = "pat-na1-clustertest-hubspot-secret-0000"
STARTUP_SECONDS = 600
RUN_SECONDS = 1800
INGESTION_TASKS = {
    "ingest.extract_load_mailchimp",
    "ingest.extract_load_hubspot",
    "ingest.extract_load_google_sheets",
    "lake.land_email_events",
}


@dataclass
class Cluster:
    data: Path
    env: dict[str, str]
    settings: Settings
    process: subprocess.Popen
    listeners: ListenerWatch
    output: Path
    processes: dict[int, psutil.Process] = field(default_factory=dict)  # every one seen

    def remember_processes(self) -> None:
        for child in psutil.Process(self.process.pid).children(recursive=True):
            self.processes.setdefault(child.pid, child)

    def service_pid(self, *words: str) -> int | None:
        """The main process of the service whose command line holds every one of ``words``
        (None while it is not running, between its death and its restart)."""
        for child in psutil.Process(self.process.pid).children():
            try:
                command = " ".join(child.cmdline())
            except psutil.Error:  # exited, or a zombie not yet reaped
                continue
            if all(word in command for word in words):
                return child.pid
        return None


def _wait(check, seconds: float, what: str, cluster: Cluster) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert cluster.process.poll() is None, f"`pipeline cluster` exited waiting for {what}"
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # PostgreSQL runs as the `postgres` user when the tests run as root: it must be able to walk
    # to its folder, so the data folder is not under pytest's owner-only temporary folder.
    root = Path(tempfile.mkdtemp(prefix="cluster-test-"))
    root.chmod(0o711)
    data = root / "data"
    env = {
        **os.environ,
        "PIPELINE_DATA_DIR": str(data),
        "PIPELINE_SCHEDULE": "none",  # only the runs the test triggers
        "MOCK_SEED": str(SEED),
        "MOCK_SCALE": str(SCALE),
        "MOCK_MAILCHIMP_API_KEY": MAILCHIMP_KEY,
        "MOCK_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        **{
            name: str(free_port())
            for name in (
                "MOCK_PORT",
                "POSTGRES_PORT",
                "AIRFLOW_API_PORT",
                "SPARK_MASTER_PORT",
                "SPARK_MASTER_WEBUI_PORT",
            )
        },
    }
    # The workers' web UIs take the two ports after the master's.
    while any(_busy(int(env["SPARK_MASTER_WEBUI_PORT"]) + n) for n in (1, 2)):
        env["SPARK_MASTER_WEBUI_PORT"] = str(free_port())
    env.pop("AIRFLOW_HOME", None)
    output = root / "cluster.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [console_script("pipeline"), "cluster"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # as from a terminal: Ctrl-C (SIGINT) is its to handle
        )
    listeners = ListenerWatch(process.pid)
    listeners.start()
    running = Cluster(data, env, Settings.from_env(env), process, listeners, output)
    try:
        _wait(lambda: "cluster up" in output.read_text(), STARTUP_SECONDS, "the cluster", running)
        running.remember_processes()
        yield running
    finally:
        running.remember_processes()
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            listeners.stop()
        left = [p for p in running.processes.values() if p.is_running()]
        shutil.rmtree(root, ignore_errors=True) if not left else None
        assert not left, f"left running after Ctrl-C: {[p.cmdline()[:3] for p in left]}"
    listeners.check()


def _busy(port: int) -> bool:
    return any(c.laddr.port == port for c in psutil.net_connections("tcp") if c.laddr)


# --- what a run leaves ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    run_id: str
    state: str
    seconds: float
    marts: dict[str, tuple[list[str], list[tuple]]]
    silver_events: int  # rows in the lake's silver email activity (its current Delta version)
    tasks: list[dict[str, Any]]  # every try of every task instance, from the metadata DB
    spark_events: list[dict[str, Any]]  # the run's lake application's event log


def _trigger_and_wait(cluster: Cluster, run_id: str, during=None) -> Run:
    events_dir = cluster.data / "logs" / "spark-events"
    before = set(events_dir.iterdir()) if events_dir.exists() else set()
    api = AirflowApi(cluster.settings)
    started = time.monotonic()
    api.trigger(run_id, {"pipeline_run_id": run_id})
    if during is not None:
        during(api, run_id)
    state = api.wait_for_run(run_id, RUN_SECONDS)
    seconds = round(time.monotonic() - started, 1)
    cluster.remember_processes()
    applications = sorted(set(events_dir.iterdir()) - before)
    assert len(applications) == 1, applications  # the lake: one Spark application per run
    events = [
        orjson.loads(line)
        for log in sorted(applications[0].glob("events_*"))
        for line in log.read_bytes().splitlines()
    ]
    return Run(
        run_id,
        state,
        seconds,
        _marts(cluster.data / "warehouse.duckdb"),
        DeltaTable(str(cluster.data / "lake" / "silver" / "email_activity"))
        .to_pyarrow_table()
        .num_rows,
        _task_tries(cluster, run_id),
        events,
    )


def _marts(warehouse: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every mart: its columns and its rows (sorted)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
                " order by 1"
            ).fetchall()
        ]
        marts = {}
        for table in tables:
            result = connection.execute(f"select * from marts.{table}")
            columns = [column[0] for column in result.description]
            marts[table] = (columns, sorted(result.fetchall(), key=repr))
        return marts


def _task_tries(cluster: Cluster, run_id: str) -> list[dict[str, Any]]:
    """Every try of the run's task instances: the current ones and the history of earlier tries."""
    import psycopg2

    password = (cluster.data / "secrets" / "airflow-db-password").read_text().strip()
    columns = "task_id, try_number, state, pool, start_date, end_date"
    with (
        psycopg2.connect(
            host="127.0.0.1",
            port=cluster.settings.postgres_port,
            user="airflow",
            password=password,
            dbname="airflow",
        ) as connection,
        connection.cursor() as cursor,
    ):
        rows = []
        for table in ("task_instance", "task_instance_history"):
            cursor.execute(
                f"select {columns} from {table} where dag_id = 'campaign_pipeline' and run_id = %s",
                (run_id,),
            )
            rows += [dict(zip(columns.split(", "), row, strict=True)) for row in cursor]
    return rows


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Seconds during which two task tries both ran."""
    if None in (a["start_date"], a["end_date"], b["start_date"], b["end_date"]):
        return 0.0
    start: datetime = max(a["start_date"], b["start_date"])
    end: datetime = min(a["end_date"], b["end_date"])
    return max((end - start).total_seconds(), 0.0)


def _executors_by_worker(events: list[dict[str, Any]], cluster: Cluster) -> dict[str, str]:
    """Executor id -> the worker it ran on (from its log URL: the worker's web UI port)."""
    base = cluster.settings.spark_ui_port
    workers = {str(base + number): f"spark-worker-{number}" for number in (1, 2)}
    found = {}
    for event in events:
        if event["Event"] == "SparkListenerExecutorAdded":
            url = event["Executor Info"]["Log Urls"]["stdout"]
            port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
            found[event["Executor ID"]] = workers.get(port, f"unknown worker on port {port}")
    return found


def _task_ends(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if event["Event"] == "SparkListenerTaskEnd"]


# --- the run, with faults -------------------------------------------------------------------------


@dataclass
class Faults:
    scheduler_killed_during: set[str] = field(default_factory=set)
    worker_killed: bool = False
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def truth():
    return served_truth(SEED, SCALE)


@pytest.fixture(scope="module")
def faulty_run(cluster) -> tuple[Run, Faults]:
    """A run triggered through the REST API, with the scheduler and then a Spark worker killed
    (SIGKILL) while they work."""
    faults = Faults()

    def inject(api: AirflowApi, run_id: str) -> None:
        # A thread, so that the run's end is still waited for if a fault never finds its moment.
        threading.Thread(target=_inject, args=(api, run_id), daemon=True).start()

    def _inject(api: AirflowApi, run_id: str) -> None:
        try:
            running = _wait(
                lambda: {
                    ti["task_id"]
                    for ti in api.task_instances(run_id)
                    if ti["state"] == "running" and ti["task_id"].startswith("ingest.")
                },
                300,
                "an ingestion task to run",
                cluster,
            )
            scheduler = cluster.service_pid("airflow", "scheduler")
            assert scheduler is not None, "the scheduler runs"
            os.kill(scheduler, signal.SIGKILL)
            faults.scheduler_killed_during = running
            _wait(
                lambda: cluster.service_pid("airflow", "scheduler") not in (None, scheduler),
                120,
                "the scheduler to be restarted",
                cluster,
            )
            worker_dir = cluster.data / "spark" / "worker-1"
            before = set(worker_dir.iterdir())
            _wait(
                lambda: any(
                    "Running task" in stderr.read_text(errors="replace")
                    for app in set(worker_dir.iterdir()) - before
                    for stderr in app.glob("*/stderr")
                ),
                900,
                "a task on worker 1's executor",
                cluster,
            )
            worker = cluster.service_pid("deploy.worker.Worker", str(worker_dir))
            assert worker is not None, "worker 1 runs"
            os.kill(worker, signal.SIGKILL)
            faults.worker_killed = True
        except Exception as error:  # reported by the tests below
            faults.errors.append(repr(error))

    run = _trigger_and_wait(cluster, "faults", during=inject)
    print(f"\nrun with faults on the cluster: {run.state} in {run.seconds}s")
    return run, faults


def test_the_run_survives_a_killed_scheduler_and_a_killed_spark_worker(faulty_run, cluster):
    run, faults = faulty_run
    assert not faults.errors, faults.errors
    assert faults.scheduler_killed_during and faults.worker_killed
    assert run.state == "success"
    restarts = cluster.output.read_text()
    assert "airflow-scheduler: exited with -9; restarting" in restarts
    assert "spark-worker-1: exited with -9; restarting" in restarts
    # The killed scheduler's task processes went with it: the tries it left were reset and run
    # again by the new scheduler (their earlier tries are in the history).
    retried = {task["task_id"] for task in run.tasks if task["try_number"] > 1}
    assert retried & faults.scheduler_killed_during, (retried, faults.scheduler_killed_during)


def test_the_marts_equal_the_truth_despite_the_faults(faulty_run, truth):
    """The checks `make run`'s end-to-end test makes of its marts, at the same seed and scale."""
    columns, rows = faulty_run[0].marts["campaign_performance"]
    named = (dict(zip(columns, row, strict=True)) for row in rows)
    performance = {row["campaign_id"]: row for row in named}
    assert campaign_performance_differences(performance, truth) == []
    assert sum(campaign["won_deals"] for campaign in truth["campaigns"]) > 0
    assert all(rows for _, rows in faulty_run[0].marts.values())


def test_nothing_was_loaded_twice(faulty_run, cluster, truth):
    assert_every_raw_record_once(cluster.data / "warehouse.duckdb", truth)
    # Email activity goes to the lake: silver holds each event once.
    assert faulty_run[0].silver_events == truth["counts"]["email_activity"]


def test_ingestion_tasks_overlapped_while_warehouse_writers_never_did(faulty_run):
    tries = faulty_run[0].tasks
    ingestion = [task for task in tries if task["task_id"] in INGESTION_TASKS]
    assert {task["task_id"] for task in ingestion} == INGESTION_TASKS
    overlaps = {
        (a["task_id"], b["task_id"]): _overlap(a, b)
        for i, a in enumerate(ingestion)
        for b in ingestion[i + 1 :]
    }
    print(f"\ningestion overlaps (s): { {k: round(v, 1) for k, v in overlaps.items() if v} }")
    assert max(overlaps.values()) > 0, "LocalExecutor ran no two ingestion tasks at once"
    # A try the killed scheduler left gets its end time when the new scheduler resets it, later
    # than it really stopped: the writes that count are the tries that succeeded.
    writers = [t for t in tries if t["pool"] == "duckdb_writer" and t["state"] == "success"]
    assert len(writers) > 10, "the ingestion tasks and every dbt task write the warehouse"
    for i, a in enumerate(writers):
        for b in writers[i + 1 :]:
            assert _overlap(a, b) == 0, f"{a['task_id']} and {b['task_id']} wrote at once"


def test_the_lakes_tasks_ran_on_both_workers_and_a_lost_workers_finished_on_the_other(
    faulty_run, cluster
):
    run, _ = faulty_run
    executors = _executors_by_worker(run.spark_events, cluster)
    ends = _task_ends(run.spark_events)
    ran_on = {executors.get(end["Task Info"]["Executor ID"], "the driver") for end in ends}
    assert ran_on == {"spark-worker-1", "spark-worker-2"}, ran_on
    removed = [
        event["Executor ID"]
        for event in run.spark_events
        if event["Event"] == "SparkListenerExecutorRemoved"
    ]
    assert any(executors.get(executor) == "spark-worker-1" for executor in removed), removed
    lost = [e for e in ends if e["Task End Reason"]["Reason"] != "Success"]
    print(f"\ntasks lost with worker 1's executor and run again: {len(lost)}")
    last_removal = max(
        i for i, e in enumerate(run.spark_events) if e["Event"] == "SparkListenerExecutorRemoved"
    )
    after = _task_ends(run.spark_events[last_removal:])
    assert any(executors.get(e["Task Info"]["Executor ID"]) == "spark-worker-2" for e in after), (
        "worker 2 went on with the lake's tasks"
    )


# --- the whole life -------------------------------------------------------------------------------


def test_every_listener_is_on_loopback(cluster, faulty_run):
    cluster.listeners.check()
    # The watch saw the servers, so it was looking (a JVM shows 127.0.0.1 as ::ffff:127.0.0.1).
    settings = cluster.settings
    ports = {settings.postgres_port, settings.airflow_api_port, settings.mock_port}
    ports |= {settings.spark_master_port, settings.spark_ui_port, settings.spark_ui_port + 1}
    seen = {listener.port for listener in cluster.listeners.seen}
    assert ports <= seen, cluster.listeners.addresses()
    assert len(seen) > len(ports), "the workers', executors' and driver's own ports"


def test_no_credential_or_secret_in_any_output(cluster, faulty_run):
    data = cluster.data
    secrets = [MAILCHIMP_KEY, HUBSPOT_TOKEN]
    for path in (data / "secrets").iterdir():
        if path.name == "airflow-passwords.json":
            secrets.append(json.loads(path.read_text())["admin"])
        elif path.name != "pgpass":
            secrets.append(path.read_text().strip())
    assert len(secrets) >= 6
    texts = [cluster.output.read_text(errors="replace")]
    for path in data.rglob("*"):
        if path.is_relative_to(data / "secrets") or path.is_relative_to(data / "postgres"):
            continue
        if path.is_file() and path.suffix not in {".duckdb", ".parquet", ".wal", ".jar"}:
            texts.append(path.read_bytes().decode(errors="replace"))
    assert len(texts) > 20, "the runs should have left logs to search"
    for secret in secrets:
        assert not any(secret in text for text in texts), "a secret leaked into an output"
