"""A run's child processes die with it, and a locked warehouse is one line naming who holds it.

Real processes throughout: a Python process holding a DuckDB file open for writing, the installed
``pipeline`` console script, and a parent killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
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
