"""A run's child processes die with it, and a locked warehouse is one line naming who holds it.

Real processes throughout: a Python process holding a DuckDB file open for writing, the installed
``pipeline`` console script, and a parent killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest

from pipeline.executables import console_script
from pipeline.processes import lock_conflict
from testbench.chaos.runner import holding_for_writing as holding
from testbench.support import free_port


def _lock_error(database: Path) -> str:
    with pytest.raises(duckdb.IOException) as caught:
        duckdb.connect(str(database), read_only=True)
    return str(caught.value)


def test_duckdbs_lock_error_becomes_one_line_naming_the_holder_and_what_to_do(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with holding(database) as holder:
        error = _lock_error(database)
        line = lock_conflict(f"dbt said:\n  Runtime Error\n  {error}\nDone.")
        assert line is not None and "\n" not in line
        assert f"is held by PID {holder.pid} (python -c" in line
        assert str(database) in line and f"kill {holder.pid}" in line
    gone = lock_conflict(error)  # the holder has exited since
    assert gone is not None and f"PID {holder.pid}" in gone and "exited since: run again" in gone
    assert lock_conflict("Catalog Error: Table with name x does not exist!") is None


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "select 1"),
        # dbt runs as a child of the step: its output, not the step's own error, names the lock.
        ("transform",),
    ],
    ids=["sql", "transform"],
)
def test_a_command_meeting_a_held_warehouse_fails_at_once_in_one_line(tmp_path, args):
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()
    env = {**os.environ, "PIPELINE_DATA_DIR": str(tmp_path)}
    env.pop("WAREHOUSE_PATH", None)
    with holding(database) as holder:
        done = subprocess.run(
            [console_script("pipeline"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert f"the warehouse {database} is held by PID {holder.pid} (python -c" in last, done.stderr
    assert "stop it" in last and "or wait" in last


PARENT = """
import subprocess, sys
from pipeline.processes import dies_with_parent
subprocess.run(["sleep", "300"], preexec_fn=dies_with_parent())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG)")
def test_a_child_started_with_dies_with_parent_goes_when_its_parent_is_killed():
    """As dbt or Spark under a step whose process gets kill -9: nothing keeps running."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    deadline = time.monotonic() + 60
    while not (children := psutil.Process(parent.pid).children()):
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    child = children[0]
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    gone, alive = psutil.wait_procs([child], timeout=30)
    exited = not alive or child.status() == psutil.STATUS_ZOMBIE  # reaped by whoever adopted it
    assert exited, f"{child.cmdline()} outlived its killed parent"


GUARDED = """
import subprocess, sys, time
from pipeline.guard import group_guard
with group_guard(grace=5) as watch:
    # A server that forks a worker, as Airflow's scheduler forks LocalExecutor workers.
    server = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300"], start_new_session=True)
    watch(server.pid)
    print("ready", flush=True)
    time.sleep(300)
"""


def test_the_guard_stops_a_whole_process_group_when_its_starter_is_killed():
    """The server's forked worker goes too, though no signal from the kernel reaches it."""
    starter = subprocess.Popen([sys.executable, "-c", GUARDED], stdout=subprocess.PIPE)
    assert starter.stdout.readline() == b"ready\n"
    deadline = time.monotonic() + 30
    while (
        len(
            sleeps := [
                p
                for p in psutil.Process(starter.pid).children(recursive=True)
                if p.name() == "sleep"
            ]
        )
        < 2
    ):
        assert time.monotonic() < deadline, "the server's two processes never started"
        time.sleep(0.05)
    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()
    _, alive = psutil.wait_procs(sleeps, timeout=30)
    assert _alive(alive) == [], [p.cmdline() for p in _alive(alive)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG)")
def test_pipeline_up_killed_with_sigkill_leaves_no_server_behind(tmp_path):
    """`make up` killed with kill -9 (no Ctrl-C, no finally): the mock and every Airflow
    component stop with it and free their ports, so the next `make up` can start."""
    ui_port, mock_port = free_port(), free_port()
    env = {**os.environ, "PIPELINE_DATA_DIR": str(tmp_path), "MOCK_PORT": str(mock_port)}
    for name in ("AIRFLOW_HOME", "WAREHOUSE_PATH", "LAKE_ROOT", "PIPELINE_BIND_HOST", "MOCK_HOST"):
        env.pop(name, None)
    up = subprocess.Popen(
        [console_script("pipeline"), "up", "--port", str(ui_port), "--scale", "50"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group, as a terminal would give it
    )
    started: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 300
        while not any(
            "api_server" in " ".join(p.cmdline()) or "api-server" in " ".join(p.cmdline())
            for p in _alive(psutil.Process(up.pid).children(recursive=True))
        ):
            assert up.poll() is None, "pipeline up exited before its servers started"
            assert time.monotonic() < deadline, "Airflow's API server never started"
            time.sleep(1)
        time.sleep(5)  # let the components start their own workers
        started = psutil.Process(up.pid).children(recursive=True)
        assert len(started) >= 5, [p.name() for p in started]  # mock + four Airflow components
        os.kill(up.pid, signal.SIGKILL)
        up.wait()
        _, alive = psutil.wait_procs(started, timeout=90)
        left = [p for p in _alive(alive)]
        assert left == [], [" ".join(p.cmdline())[:80] for p in left]
        for port in (ui_port, mock_port):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port))  # free again
    finally:
        for process in _alive([psutil.Process(up.pid)] if up.poll() is None else []) + _alive(
            started
        ):
            process.kill()


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    found = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found
