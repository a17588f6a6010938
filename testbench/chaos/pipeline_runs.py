"""The pipeline scenarios: whole runs through Airflow, and kills of dbt and of the lake's job.

Minutes each, so only the full suite (``make chaos``) runs them; ``make test`` relies on
tests/test_pipeline_end_to_end.py, which runs the pipeline twice and compares the marts.

1. ``pipeline run --logical-date D`` twice in one data folder: the marts and every lake table
   (the ``current`` version) must be identical; while it runs, every process it starts listens
   on 127.0.0.1 only; afterwards, no secret in any of its outputs (stdout, stderr, logs, Airflow
   task logs, dbt and GX artifacts, the report, the warehouse and the lake).
2. ``pipeline transform`` killed with SIGKILL part way: the marts of run 1 still open and equal.
3. ``pipeline lake`` killed with SIGKILL part way: every lake table's current version is whole.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psutil

from testbench.chaos import secrets
from testbench.chaos.mock import HUBSPOT_TOKEN, MAILCHIMP_API_KEY, console_script, free_port
from testbench.chaos.runner import Outcome
from testbench.listeners import ListenerWatch

LOGICAL_DATE = "2026-06-01"
# A hash key of this suite's own: if it shows up in an output, it leaked.
PEOPLE_HASH_KEY = "chaossecret-people-hash-key-3b9e1f"
ALL_SECRETS = (MAILCHIMP_API_KEY, HUBSPOT_TOKEN, PEOPLE_HASH_KEY)


def _env(data: Path, seed: int, scale: int) -> dict[str, str]:
    env = {
        **os.environ,
        "PIPELINE_DATA_DIR": str(data),
        "MOCK_PORT": str(free_port()),
        "MOCK_SEED": str(seed),
        "MOCK_SCALE": str(scale),
        "MOCK_MAILCHIMP_API_KEY": MAILCHIMP_API_KEY,
        "MOCK_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
        "PEOPLE_HASH_KEY": PEOPLE_HASH_KEY,
        "PIPELINE_SCHEDULE": "none",
    }
    # The pipeline's own configuration, not the API scenarios' (which run at the same time).
    for name in (
        "AIRFLOW_HOME",
        "WAREHOUSE_PATH",
        "LAKE_ROOT",
        "MOCK_FAULTS",
        "CONNECTOR_READ_TIMEOUT_SECONDS",
    ):
        env.pop(name, None)
    return env


def _pipeline(*args: str, env: dict[str, str], watch: Callable | None = None) -> tuple[int, str]:
    """Run ``pipeline <args>``; ``watch(process)`` runs in a thread while it does."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [console_script("pipeline"), *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )
        watcher = threading.Thread(target=watch, args=(process,), daemon=True) if watch else None
        if watcher:
            watcher.start()
        code = process.wait()
        if watcher:
            watcher.join()
        output.seek(0)
        return code, output.read().decode(errors="replace")


def _tree(process: subprocess.Popen) -> list[psutil.Process]:
    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the marts schema(s), rows sorted."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like '%marts%' order by all"
        ).fetchall()
        return {
            f"{schema}.{name}": con.execute(
                f'select * from "{schema}"."{name}" order by all'
            ).fetchall()
            for schema, name in tables
        }


def lake(root: Path) -> dict[str, Any]:
    """Every published lake table's current version: its rows, sorted (None if unreadable)."""
    tables = {}
    with duckdb.connect() as con:
        for link in sorted(root.glob("*/*/current")):
            name = f"{link.parent.parent.name}/{link.parent.name}"
            if not any(link.resolve().rglob("*.parquet")):
                tables[name] = []  # a published table with no rows (say, nothing quarantined)
                continue
            try:
                rows = con.execute(
                    "select * exclude (filename) from read_parquet(?, hive_partitioning = true, "
                    "filename = true) order by all",
                    [str(link.resolve() / "**" / "*.parquet")],
                ).fetchall()
                tables[name] = rows
            except (duckdb.Error, OSError) as error:
                tables[name] = f"unreadable: {error}"
    return tables


def _differences(first: dict, second: dict) -> list[str]:
    names = sorted(set(first) | set(second))
    return [name for name in names if first.get(name) != second.get(name)]


def _kill_tree_after(delay: float, killed: list[str]) -> Callable:
    def watch(process: subprocess.Popen) -> None:
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return
            time.sleep(0.05)
        for member in reversed(_tree(process)):  # children first: none is orphaned running
            try:
                os.kill(member.pid, signal.SIGKILL)
                killed.append(member.name())
            except (ProcessLookupError, psutil.Error):
                pass

    return watch


def run_pipeline_scenarios(
    seed: int,
    scale: int,
    only: set[str] | None = None,
    workdir: Path | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress:
            progress(outcome)

    wanted = {
        "airflow_same_date_twice",
        "kill9_dbt",
        "kill9_lake_publish",
        "secrets_everywhere",
        "loopback_only_pipeline",
    }
    if only is not None and not wanted & only:
        return outcomes
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="chaos-pipeline-") as temporary:
        data = (workdir or Path(temporary)) / "pipeline-data"
        data.mkdir(parents=True, exist_ok=True)
        env = _env(data, seed, scale)
        warehouse = data / "warehouse.duckdb"
        outputs: list[str] = []
        watches: list[ListenerWatch] = []

        def sample_listeners(process: subprocess.Popen) -> None:
            """The loopback check (testbench/listeners.py) on the run's whole process tree."""
            with ListenerWatch(process.pid) as watch:
                watches.append(watch)
                process.wait()

        # 1. The same logical date twice.
        started = time.monotonic()
        runs = []
        for _ in range(2):
            code, output = _pipeline(
                "run", "--logical-date", LOGICAL_DATE, env=env, watch=sample_listeners
            )
            outputs.append(output)
            if code != 0:
                record(Outcome("airflow_same_date_twice", "FAILED", detail=output[-300:]))
                return outcomes
            runs.append((marts(warehouse), lake(data / "lake")))
        differ = _differences(runs[0][0], runs[1][0]) + _differences(runs[0][1], runs[1][1])
        record(
            Outcome(
                "airflow_same_date_twice",
                "FAILED" if differ or not runs[0][0] else "survived",
                detail=f"differ: {', '.join(differ)}"
                if differ
                else f"{len(runs[0][0])} marts and {len(runs[0][1])} lake tables identical",
                seconds=time.monotonic() - started,
            )
        )
        reference_marts, reference_lake = runs[1]

        # 2. kill -9 of dbt part way.
        started = time.monotonic()
        killed: list[str] = []
        code, output = _pipeline(
            "transform", env=env, watch=_kill_tree_after(rng.uniform(4, 12), killed)
        )
        outputs.append(output)
        try:
            after_kill = marts(warehouse)
            problem = "" if after_kill == reference_marts else "marts changed after the kill"
        except duckdb.Error as error:
            problem = f"marts unreadable after the kill: {error}"
        code, output = _pipeline("transform", env=env)
        outputs.append(output)
        if code != 0:
            problem = problem or f"the rerun failed: {output[-200:]}"
        elif marts(warehouse) != reference_marts:
            problem = problem or "the rerun gave other marts"
        record(
            Outcome(
                "kill9_dbt",
                "FAILED" if problem else "survived",
                detail=problem
                or f"killed {len(killed)} processes ({', '.join(sorted(set(killed)))}); "
                "marts intact, rerun identical",
                seconds=time.monotonic() - started,
            )
        )

        # 3. kill -9 of the lake's Spark job at two points.
        started = time.monotonic()
        problems = []
        kills = 0
        for delay in (rng.uniform(5, 20), rng.uniform(20, 45)):
            killed = []
            code, output = _pipeline(
                "lake", "--run-date", LOGICAL_DATE, env=env, watch=_kill_tree_after(delay, killed)
            )
            outputs.append(output)
            kills += bool(killed)
            now = lake(data / "lake")
            problems += [
                f"{name} after a kill at {delay:.0f}s" for name in _differences(reference_lake, now)
            ]
        code, output = _pipeline("lake", "--run-date", LOGICAL_DATE, env=env)
        outputs.append(output)
        if code != 0:
            problems.append(f"the rerun failed: {output[-200:]}")
        else:
            problems += [
                f"{n} after the rerun" for n in _differences(reference_lake, lake(data / "lake"))
            ]
        record(
            Outcome(
                "kill9_lake_publish",
                "FAILED" if problems else "survived",
                detail="; ".join(problems[:3])
                or f"{kills} of 2 runs killed; every current version whole, rerun identical",
                seconds=time.monotonic() - started,
            )
        )

        # 4. Secrets, 5. loopback.
        found = secrets.find_secrets([data], outputs, ALL_SECRETS)
        record(
            Outcome(
                "secrets_everywhere",
                "FAILED" if found else "survived",
                secrets=len(found),
                detail="; ".join(found[:4])
                or "stdout/stderr, data/ (logs, Airflow task logs, dbt and GX artifacts, "
                "report, warehouse, lake): no secret",
            )
        )
        exposed = sorted({str(listener) for watch in watches for listener in watch.exposed})
        bound = sorted({address for watch in watches for address in watch.addresses()})
        record(
            Outcome(
                "loopback_only_pipeline",
                "FAILED" if exposed else "survived",
                detail="; ".join(exposed[:3])
                or f"listening while the pipeline ran: {', '.join(bound) or 'nothing'}",
            )
        )
    return outcomes
