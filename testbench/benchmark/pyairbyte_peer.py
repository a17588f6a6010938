"""Peer: PyAirbyte running our own source-mailchimp into its DuckDB cache.

PyAirbyte cannot share an environment with Airflow 3, so it has its own small uv project,
``testbench/benchmark/pyairbyte/`` (``pyproject.toml`` + ``uv.lock``), synced on demand into
``testbench/benchmark/pyairbyte/.venv``. It runs the connector installed in the project's
environment (the console script), the same executable our pipeline runs, so the comparison is
PyAirbyte's handling of the records against our destination's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import orjson

from pipeline.executables import console_script
from testbench.benchmark.measure import PROJECT_ROOT

PROJECT = Path(__file__).resolve().parent / "pyairbyte"
PYTHON = PROJECT / ".venv" / "bin" / "python"


def uv() -> str:
    return shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "bin" / "uv")


def ensure_environment() -> Path:
    """Sync PyAirbyte's own environment from its lock (a no-op when it is up to date)."""
    subprocess.run(
        [uv(), "sync", "--locked", "--compile-bytecode", "--quiet", "--project", str(PROJECT)],
        check=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""},
    )
    return PYTHON


def command(base_url: str, apikey: str, workdir: Path) -> list[str]:
    """The measured command; writes the source's config (a mock key) into the work folder."""
    config = workdir / "pyairbyte_config.json"
    config.write_bytes(orjson.dumps({"apikey": apikey, "base_url": base_url}))
    config.chmod(0o600)
    return [
        str(PYTHON),
        str(PROJECT / "run_pyairbyte.py"),
        *("--executable", console_script("source-mailchimp")),
        *("--config", str(config), "--cache", str(workdir / "pyairbyte.duckdb")),
    ]
