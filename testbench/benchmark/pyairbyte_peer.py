"""Peer: PyAirbyte running our own source-mailchimp into its DuckDB cache.

PyAirbyte cannot share an environment with Airflow 3, so it has its own small uv project,
``testbench/benchmark/pyairbyte/`` (``pyproject.toml`` + ``uv.lock``), synced on demand into
``testbench/benchmark/pyairbyte/.venv``. It runs the connector installed in the project's
environment (the console script), the same executable our pipeline runs, so the comparison is
PyAirbyte's handling of the records against our destination's.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.executables import console_script
from testbench.support import sync_uv_project

PROJECT = Path(__file__).resolve().parent / "pyairbyte"
PYTHON = PROJECT / ".venv" / "bin" / "python"


def ensure_environment() -> Path:
    """Sync PyAirbyte's own environment from its lock (a no-op when it is up to date)."""
    return sync_uv_project(PROJECT)


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
