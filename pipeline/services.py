"""Start and stop the services a local run needs: the mock APIs, and Airflow's ``dags test``.

On one laptop everything is a child process of ``pipeline run``; on docker-compose the same pieces
are long-running services and this module is not used.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import orjson
import requests

from pipeline.config import Settings

log = logging.getLogger(__name__)

DAG_ID = "campaign_pipeline"


class ServiceError(RuntimeError):
    """A service could not be started or a run through it failed."""


def _health(url: str) -> dict | None:
    try:
        response = requests.get(f"{url}/_mock/health", timeout=1)
    except requests.RequestException:
        return None
    return response.json() if response.ok else None


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
    command = [
        str(Path(sys.executable).with_name("mock-apis")),
        "serve",
        "--host",
        settings.mock_host,
        "--port",
        str(settings.mock_port),
        "--seed",
        str(settings.mock_seed),
        "--scale",
        str(settings.mock_scale),
    ]
    log_file = settings.data_dir / "logs" / "mock-apis.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
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
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def airflow_env(settings: Settings) -> dict[str, str]:
    """Airflow on SQLite inside the ignored data folder, reading this project's DAGs."""
    home = settings.airflow_home.resolve()
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # The step library reads the same configuration as the CLI that started Airflow.
        "PIPELINE_DATA_DIR": str(settings.data_dir.resolve()),
    }


def run_dag(settings: Settings, logical_date: date, run_id: str) -> Path:
    """Run the pipeline DAG once for real with ``airflow dags test`` and return its log file."""
    env = airflow_env(settings)
    airflow = str(Path(sys.executable).with_name("airflow"))
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"airflow-{run_id}.log"
    with log_file.open("wb") as output:
        steps = [
            [airflow, "db", "migrate"],
            [
                airflow,
                "dags",
                "test",
                DAG_ID,
                logical_date.isoformat(),
                "--conf",
                orjson.dumps({"pipeline_run_id": run_id}).decode(),
            ],
        ]
        for command in steps:
            done = subprocess.run(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            code = done.returncode
            if code != 0:
                tail = log_file.read_text(errors="replace").splitlines()[-25:]
                raise ServiceError(
                    f"`airflow {' '.join(command[1:3])}` failed (exit {code}); last lines of "
                    f"{log_file}:\n" + "\n".join(tail)
                )
    return log_file
