"""`make up`: Airflow's UI with the scheduler, on 127.0.0.1 with auth, runs the DAG when triggered.

This is what an instructor does in front of a class: start the stack, log in, press "Trigger".
The test does the same through the REST API the UI uses.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 420
RUN_SECONDS = 900


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(check, seconds: float, what: str, process: subprocess.Popen):
    """Poll ``check`` until it returns something true, while `pipeline up` keeps running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"`pipeline up` exited early while waiting for {what}"
        result = check()
        if result:
            return result
        time.sleep(3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory):
    data = tmp_path_factory.mktemp("airflow-ui")
    port = _free_port()
    env = {
        **os.environ,
        "PIPELINE_DATA_DIR": str(data),
        "MOCK_PORT": str(_free_port()),
        "MOCK_SCALE": "200",
        # Only the run the test triggers: no scheduled run competes with it.
        "PIPELINE_SCHEDULE": "none",
    }
    env.pop("AIRFLOW_HOME", None)
    with (data / "pipeline-up.out").open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "pipeline"), "up", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so that the whole tree can be stopped at the end
        )
    url = f"http://127.0.0.1:{port}"

    def answering():
        try:
            return requests.get(f"{url}/api/v2/version", timeout=5).ok
        except requests.RequestException:
            return False

    try:
        _wait(answering, STARTUP_SECONDS, "the Airflow API server", process)
        yield url, data, port, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_ui_listens_on_loopback_only(airflow_ui):
    _, _, port, _ = airflow_ui
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    addresses = {
        line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(f":{port}")
    }
    assert addresses == {f"127.0.0.1:{port}"}


def test_a_triggered_run_succeeds(airflow_ui):
    url, data, _, process = airflow_ui
    password = json.loads((data / "airflow" / "passwords.json").read_text())["admin"]
    # Auth is on: without a token the API refuses.
    assert requests.get(f"{url}/api/v2/dags", timeout=10).status_code == 401
    token = requests.post(
        f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    api = f"{url}/api/v2/dags/campaign_pipeline"

    def parsed():
        return session.get(api, timeout=10).ok

    _wait(parsed, 180, "the DAG to be parsed", process)
    assert session.patch(api, json={"is_paused": False}, timeout=10).ok
    run = session.post(
        f"{api}/dagRuns",
        json={"logical_date": None, "conf": {"pipeline_run_id": "ui-test"}},
        timeout=10,
    ).json()

    def finished():
        state = session.get(f"{api}/dagRuns/{run['dag_run_id']}", timeout=10).json()["state"]
        return state if state in {"success", "failed"} else None

    assert _wait(finished, RUN_SECONDS, "the triggered run", process) == "success"
    assert (data / "reports" / "ui-test.html").exists()
