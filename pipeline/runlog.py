"""A run's log: one JSON line per step with its status, duration and what it produced.

Steps run in different processes (Airflow tasks, CLI commands), so the log is a file per run under
``data/runs/``. The end-of-run summary reads it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson


def log_path(runs_dir: Path, run_id: str) -> Path:
    # Airflow run ids hold ':' and '+'; keep file names portable.
    return runs_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', run_id)}.jsonl"


@contextmanager
def timed_step(runs_dir: Path, run_id: str, name: str) -> Iterator[dict[str, Any]]:
    """Time a step and append its entry; the body fills in the yielded dict with its metrics."""
    metrics: dict[str, Any] = {}
    started = time.time()
    status = "failed"
    try:
        yield metrics
        status = "success"
    finally:
        record_step(runs_dir, run_id, name, status, started, time.time() - started, metrics)


def record_step(
    runs_dir: Path,
    run_id: str,
    name: str,
    status: str,
    started_at: float,
    seconds: float,
    metrics: dict[str, Any] | None = None,
) -> None:
    """Append a step's entry to the run's log (``timed_step`` does it around a step's body)."""
    entry = {
        "step": name,
        "status": status,
        "started_at": started_at,
        "seconds": round(seconds, 3),
        "metrics": metrics or {},
    }
    path = log_path(runs_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        file.write(orjson.dumps(entry, default=str) + b"\n")


def read_steps(runs_dir: Path, run_id: str) -> list[dict[str, Any]]:
    path = log_path(runs_dir, run_id)
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def latest_run_id(runs_dir: Path) -> str | None:
    """The id of the most recently written run log, if any."""
    logs = sorted(runs_dir.glob("*.jsonl"), key=lambda path: path.stat().st_mtime)
    return logs[-1].stem if logs else None


def pipeline_run_id(context: Any) -> str:
    """The run id of an Airflow task's run: given by `pipeline run` in the conf, else Airflow's."""
    conf = context["dag_run"].conf or {}
    return conf.get("pipeline_run_id") or context["run_id"]
