"""Start and stop the services a local run needs: the mock APIs, and Airflow's ``dags test``.

On one laptop everything is a child process of ``pipeline run``; on docker-compose the same pieces
are long-running services and this module is not used.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path

import orjson
import requests

from pipeline.config import Settings
from pipeline.executables import console_script
from pipeline.guard import group_guard
from pipeline.processes import dies_with_parent
from pipeline.secrets import airflow_passwords_file, secret

log = logging.getLogger(__name__)

DAG_ID = "campaign_pipeline"
WAREHOUSE_WRITER_POOL = "duckdb_writer"


class ServiceError(RuntimeError):
    """A service could not be started or a run through it failed."""


def _health(url: str) -> dict | None:
    try:
        response = requests.get(f"{url}/_mock/health", timeout=1)
    except requests.RequestException:
        return None
    return response.json() if response.ok else None


def mock_command(settings: Settings, *options: str) -> list[str]:
    """``mock-apis serve`` for this configuration's host, port and world (plus ``options``)."""
    return [
        console_script("mock-apis"),
        "serve",
        "--host",
        settings.mock_host,
        "--port",
        str(settings.mock_port),
        "--seed",
        str(settings.mock_seed),
        "--scale",
        str(settings.mock_scale),
        "--dirty-rate",
        str(settings.mock_dirty_rate),
        *options,
    ]


@contextmanager
def mock_apis(settings: Settings, timeout: float = 60) -> Iterator[str]:
    """Run ``mock-apis`` on the configured host and port for the duration of the block."""
    url = settings.mock_url
    running = _health(url)
    if running is not None:
        if (running.get("seed"), running.get("scale")) == (settings.mock_seed, settings.mock_scale):
            log.info("mock APIs already running at %s; using them", url)
            yield url
            return
        raise ServiceError(
            f"port {settings.mock_port} already serves mock APIs with another seed or scale "
            f"({running.get('seed')}, {running.get('scale')}): stop them or set MOCK_PORT"
        )
    command = mock_command(settings)
    log_file = settings.data_dir / "logs" / "mock-apis.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=settings.child_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=dies_with_parent(signal.SIGTERM),  # a kill -9 of the run stops it too
        )
    try:
        deadline = time.monotonic() + timeout
        while _health(url) is None:
            if process.poll() is not None:
                raise ServiceError(f"mock-apis exited with {process.returncode}; see {log_file}")
            if time.monotonic() > deadline:
                raise ServiceError(f"mock-apis did not answer at {url} within {timeout:.0f}s")
            time.sleep(0.2)
        yield url
    finally:
        stop_process(process)


def advance_mock_clock(url: str, days: int) -> dict:
    """Move a running mock's simulated now forward by ``days`` (``POST /_mock/advance``).

    The pipeline talks to the mock over HTTP, as to any source; it never imports it.
    """
    try:
        response = requests.post(
            f"{url.rstrip('/')}/_mock/advance", params={"days": days}, timeout=120
        )
        response.raise_for_status()
    except requests.RequestException as error:
        raise ServiceError(f"cannot reach the mock server at {url}: {error}") from None
    return response.json()


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a child server: SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def airflow_env(settings: Settings) -> dict[str, str]:
    """Airflow on SQLite inside the ignored data folder, reading this project's DAGs."""
    from pipeline import dbt

    home = settings.airflow_home.resolve()
    return {
        # Every task reads the configuration of the CLI that started Airflow: its variables.
        **settings.child_env(**settings.to_env()),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos keeps dbt's partial-parse cache with the run's data, not in a shared /tmp.
        "AIRFLOW__COSMOS__CACHE_DIR": str(dbt.cosmos_cache_dir(settings)),
        # This installation's own signing secrets (pipeline/secrets.py), never Airflow's defaults
        # and never in airflow.cfg: the API server's key (its sessions, the tokens it signs to
        # fetch task logs) and the JWT secret of the API and of every task's execution API token.
        "AIRFLOW__API__SECRET_KEY": secret(settings, "airflow-api-secret-key"),
        "AIRFLOW__API_AUTH__JWT_SECRET": secret(settings, "airflow-jwt-secret"),
        # The data folder made absolute: Airflow's components start in other folders.
        "PIPELINE_DATA_DIR": str(settings.data_dir.resolve()),
        # Airflow starts its own components as `airflow ...`: this environment's, first on PATH.
        "PATH": os.pathsep.join(
            [str(Path(sys.executable).parent), settings.base_env.get("PATH", "")]
        ),
    }


def airflow_command(*args: str) -> list[str]:
    return [console_script("airflow"), *args]


def prepare_dbt_manifest(settings: Settings, force: bool = False) -> bool:
    """Write the dbt manifest the DAG renders its dbt tasks from, unless it is current.

    Returns whether it was written (`dbt parse` takes a while; a current manifest is kept).
    """
    from pipeline import dbt
    from pipeline.steps import StepError, write_dbt_manifest

    if not force and dbt.manifest_is_current(settings):
        return False
    try:
        write_dbt_manifest(settings)
    except StepError as error:
        raise ServiceError(str(error)) from None
    dbt.seed_cosmos_cache(settings, DAG_ID, "warehouse")
    return True


def prepare_airflow(settings: Settings, output) -> None:
    """The dbt manifest, Airflow's metadata DB (created or upgraded), the writers' one-slot pool."""
    prepare_dbt_manifest(settings)
    env = airflow_env(settings)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    for command in (
        airflow_command("db", "migrate"),
        airflow_command("pools", "set", WAREHOUSE_WRITER_POOL, "1", "DuckDB: one writing process"),
    ):
        done = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            what = " ".join(command[1:3])
            raise ServiceError(f"`airflow {what}` failed (exit {done.returncode})")


def local_host(host: str) -> str:
    """The address a client on this machine uses for a server bound to ``host``."""
    return "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host


def ui_url(settings: Settings, port: int) -> str:
    host = local_host(settings.bind_host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def ui_env(settings: Settings, port: int) -> dict[str, str]:
    """Airflow's API server and UI on the bind host (loopback by default), with its simple auth
    manager and this installation's generated admin password."""
    return {
        **airflow_env(settings),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Four task processes at a time: a laptop's cores, not Airflow's default of 32 workers.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__API__HOST": settings.bind_host,
        "AIRFLOW__API__PORT": str(port),
        # Task processes report to the API server's execution API: the same port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{ui_url(settings, port)}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_passwords_file(settings)),
        # Off by default; if a user turns the scheduler's health check on, it stays on the host.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": settings.bind_host,
    }


# What `airflow standalone` runs, started one by one so that each can be told its options: the
# scheduler and the triggerer each start a log server (`airflow serve-logs`) that binds every
# interface (Airflow 3.3 has no option for its host), so they run without one. Nothing here needs
# it: every component writes its task logs to AIRFLOW_HOME/logs on this machine, where the API
# server reads them.
AIRFLOW_COMPONENTS: tuple[tuple[str, ...], ...] = (
    ("scheduler", "--skip-serve-logs"),
    ("dag-processor",),
    ("triggerer", "--skip-serve-logs"),
    ("api-server",),
)


def serve_airflow(settings: Settings, port: int, output) -> None:
    """Run Airflow's components (UI included) until one of them exits or the caller is interrupted.

    Each runs in its own process group, which is stopped as a whole (SIGTERM, then SIGKILL): the
    scheduler's LocalExecutor workers and the API server's workers stop with it. If this process
    dies without its ``finally`` (``kill -9``), the guard (``pipeline.guard``) stops the groups.
    """
    env = ui_env(settings, port)
    processes: dict[str, subprocess.Popen] = {}
    with group_guard() as watch:
        try:
            for name, *options in AIRFLOW_COMPONENTS:
                processes[name] = subprocess.Popen(
                    airflow_command(name, *options),
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                watch(processes[name].pid)
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        raise ServiceError(
                            f"`airflow {name}` exited with {process.returncode}; see {output.name}"
                        )
                time.sleep(1)
        finally:
            for process in processes.values():
                _signal_group(process, signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    _signal_group(process, signal.SIGKILL)
                    process.wait()


def _signal_group(process: subprocess.Popen, signal_number: int) -> None:
    with suppress(ProcessLookupError):  # the group has exited already
        os.killpg(process.pid, signal_number)


def run_dag(settings: Settings, logical_date: date, run_id: str) -> Path:
    """Run the pipeline DAG once for real with ``airflow dags test`` and return its log file."""
    env = airflow_env(settings)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"airflow-{run_id}.log"
    with log_file.open("wb") as output:
        prepare_airflow(settings, output)
        command = airflow_command(
            "dags",
            "test",
            DAG_ID,
            logical_date.isoformat(),
            "--conf",
            orjson.dumps({"pipeline_run_id": run_id}).decode(),
        )
        # dbt runs inside `airflow dags test`: killed with its run, it must not keep the warehouse.
        code = subprocess.run(
            command,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=dies_with_parent(),  # a prctl call only: nothing between fork and exec locks
        ).returncode
    if code != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-25:]
        raise ServiceError(
            f"`airflow dags test` failed (exit {code}); last lines of {log_file}:\n"
            + "\n".join(tail)
        )
    return log_file
