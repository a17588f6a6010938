"""Run one command and measure it: wall time, peak RSS of its process tree, CPU time.

Each comparator runs in its own process so that its memory is its own and an import it makes
(dlt, the CDK, pyspark) cannot warm up the next one. The peak RSS is the largest sum of the RSS of
the command and all its descendants, sampled every 50 ms (a sync is three processes). The CPU
time is the tree's user + system time, from the kernel's accounting of waited-for children.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SECONDS = 0.05


class BenchError(RuntimeError):
    """A measured command failed: the message names it and quotes the end of its output."""


@dataclass
class Measurement:
    """What one measured command did: ``records`` comes from the command's own JSON line."""

    name: str
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    records: int = 0
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_s": round(self.records_per_s, 1)}


class TreeSampler:
    """Samples the summed RSS of a process and its descendants until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                processes = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(SAMPLE_SECONDS)


def python_module(module: str, *args: str, python: str | None = None) -> list[str]:
    """The command line of ``python -m <module> args`` in this (or another) environment."""
    return [python or sys.executable, "-m", module, *args]


def run_measured(
    name: str,
    command: list[str],
    env: dict[str, str] | None = None,
    cwd: Path = PROJECT_ROOT,
    log_path: Path | None = None,
) -> Measurement:
    """Run ``command``; its last stdout line starting with ``{`` is its result (``records``...)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    stderr = log_path.open("wb") if log_path else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        with TreeSampler(process.pid) as sampler:
            output, _ = process.communicate()
    finally:
        if log_path:
            stderr.close()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        tail = log_path.read_text(errors="replace")[-1500:] if log_path else ""
        raise BenchError(f"{name} exited with {process.returncode}: {tail}")
    result = _last_json_line(output)
    return Measurement(
        name=name,
        wall_s=round(wall, 3),
        peak_rss_mb=round(sampler.peak / 2**20, 1),
        cpu_s=round(cpu, 2),
        records=int(result.pop("records", 0)),
        detail=result,
    )


def _last_json_line(output: bytes) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith(b"{"):
            try:
                return orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
    return {}


def emit(result: dict[str, Any]) -> None:
    """What a comparator prints last: its result as one JSON line."""
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by a running process (the mock, the replay server)."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system
