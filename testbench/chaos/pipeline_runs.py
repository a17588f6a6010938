"""The pipeline scenarios: whole runs through Airflow, and kills of dbt and of the lake's job.

Minutes each, so only the full suite (``make chaos``) runs them; ``make test`` relies on
tests/test_pipeline_end_to_end.py, which runs the pipeline twice and compares the marts.

1. ``pipeline run --logical-date D`` twice in one data folder: the marts and every lake table
   (its current version) must be identical; while it runs, every process it starts listens
   on 127.0.0.1 only; afterwards, no secret in any of its outputs (stdout, stderr, logs, Airflow
   task logs, dbt and GX artifacts, the report, the warehouse and the lake).
2. ``pipeline transform`` killed with SIGKILL part way (the whole job, as ``kill -9 -PGID`` does):
   the marts of run 1 still open and equal, and the next run gives the same marts.
3. Only the ``pipeline transform`` process killed with SIGKILL (``kill -9 PID``) while dbt runs: its
   dbt goes with it (the product's ``dies_with_parent``), so the next run proceeds.
4. ``pipeline transform`` while another process holds the warehouse: it fails at once, in one line
   naming that process (DuckDB never waits for its lock).
5. ``pipeline lake --full-refresh`` killed with SIGKILL part way: every lake table's current
   version is whole, and the incremental rerun converges to the same tables.

Every ``pipeline`` command runs as a job of its own (a session, as a shell starts it) and the suite
looks at the warehouse only once every process of that job has exited: a process killed with
SIGKILL keeps its locks until the kernel has torn it down (a dbt of some hundred MB, on a busy
machine, well after its parent was reaped), and one that outlives its job is a failure.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil

from pipeline.executables import console_script
from testbench.chaos import secrets
from testbench.chaos.mock import HUBSPOT_TOKEN, MAILCHIMP_API_KEY
from testbench.chaos.runner import Outcome, holding_for_writing
from testbench.chaos.scenarios import PIPELINE_SCENARIOS
from testbench.listeners import ListenerWatch
from testbench.support import free_port

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


# How long a job's processes may take to exit once its ``pipeline`` process has: a dbt killed in
# the middle of a write finishes its disk I/O and frees its memory first.
EXIT_WITHIN_SECONDS = 60
# A pipeline command that takes longer than this is stuck (a full run takes minutes).
STUCK_AFTER_SECONDS = 1800
# Set when the suite is stopped (Ctrl-C, SIGTERM): the running job is killed, none starts.
STOPPING = threading.Event()


@dataclass
class Job:
    """What a ``pipeline`` command did: its exit code (None: stuck, then killed), its output,
    and its processes that were still running EXIT_WITHIN_SECONDS after it exited (then killed)."""

    code: int | None
    output: str
    outlived: list[str] = field(default_factory=list)

    def problem(self, what: str) -> str:
        """Why the job failed, in one line ('' if it did not)."""
        if self.outlived:
            return f"{'; '.join(self.outlived)} outlived `pipeline {what}`"
        if self.code is None:
            return f"`pipeline {what}` still ran after {STUCK_AFTER_SECONDS} s"
        if self.code != 0:
            return f"`pipeline {what}` failed (exit {self.code}): {self.output[-200:]}"
        return ""


def _pipeline(
    *args: str,
    env: dict[str, str],
    watch: Callable | None = None,
    timeout: float = STUCK_AFTER_SECONDS,
) -> Job:
    """Run ``pipeline <args>`` as a job of its own (a new session, as a shell starts a command);
    ``watch(process)`` runs in a thread while it does. Returns once every process of the job has
    exited, so that nothing of it holds the warehouse or the lake any more."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [console_script("pipeline"), *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        watcher = threading.Thread(target=watch, args=(process,), daemon=True) if watch else None
        code: int | None = None
        deadline = time.monotonic() + timeout
        try:
            if watcher:
                watcher.start()
            while code is None and time.monotonic() < deadline:
                if STOPPING.is_set():
                    raise RuntimeError("the suite is stopping")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = process.wait(timeout=1)
        finally:
            if code is None:  # stuck, or this suite was stopped: the job goes too
                _kill_session(process.pid)
            if watcher:
                watcher.join()
        outlived = _wait_for_session(process.pid, EXIT_WITHIN_SECONDS)
        output.seek(0)
        return Job(code, output.read().decode(errors="replace"), outlived)


def _session(session: int) -> list[psutil.Process]:
    """The live processes of a session (a zombie has closed its files: it holds no lock)."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(process.pid) == session:
                members.append(process)
        except (psutil.Error, OSError):  # exited meanwhile
            pass
    return members


def _kill_session(session: int) -> list[str]:
    """SIGKILL a job: its process group at once (a child being forked meanwhile is in it too),
    then any member that made a group of its own (Spark's Python workers do). Returns the names
    of the processes killed."""
    names = [_name(member) for member in _session(session)]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(session, signal.SIGKILL)
    for member in _session(session):
        with contextlib.suppress(psutil.Error):
            member.kill()
    return names


def _wait_for_session(session: int, seconds: float) -> list[str]:
    """Wait until every process of the session has exited; what still runs after ``seconds`` is
    described (PID and command), killed, and returned."""
    deadline = time.monotonic() + seconds
    while members := _session(session):
        if time.monotonic() > deadline:
            described = [f"PID {m.pid} ({_name(m)})" for m in members]
            _kill_session(session)
            return described
        psutil.wait_procs(members, timeout=0.1)  # a poll: they are not our children
    return []


def _name(process: psutil.Process) -> str:
    try:
        return " ".join(Path(word).name for word in process.cmdline()[:3]) or process.name()
    except psutil.Error:
        return "?"


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
    """Every lake Delta table's current version: its rows, sorted (a string if unreadable).

    Read through each table's transaction log (delta-rs), as every reader of the lake does: the
    files of a run killed before its commit sit in the folder but are in no version.
    """
    from deltalake import DeltaTable

    tables = {}
    with duckdb.connect() as con:
        for log in sorted(root.glob("*/*/_delta_log")):
            name = f"{log.parent.parent.name}/{log.parent.name}"
            try:
                con.register("current_version", DeltaTable(str(log.parent)).to_pyarrow_table())
                rows = con.execute("select * from current_version order by all").fetchall()
                tables[name] = rows
            except Exception as error:  # noqa: BLE001 (any failure to read is the finding)
                tables[name] = f"unreadable: {error}"
    return tables


def _differences(first: dict, second: dict) -> list[str]:
    names = sorted(set(first) | set(second))
    return [name for name in names if first.get(name) != second.get(name)]


def _kill_after(
    delay: float, killed: list[str], once: str | None = None, whole_job: bool = True
) -> Callable:
    """A watch for ``_pipeline``: ``delay`` seconds after the job starts (or after a process
    whose command line holds ``once`` appears in it), SIGKILL the whole job, or only its
    ``pipeline`` process; the names of the processes killed go to ``killed``."""

    def watch(process: subprocess.Popen) -> None:
        if once is not None:
            while not any(once in _name(member) for member in _session(process.pid)):
                if process.poll() is not None:
                    return
                time.sleep(0.05)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return
            time.sleep(0.05)
        if whole_job:
            killed.extend(_kill_session(process.pid))
        else:
            with contextlib.suppress(psutil.Error):
                killed.append(_name(psutil.Process(process.pid)))
            process.kill()

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

    if only is not None and not set(PIPELINE_SCENARIOS) & only:
        return outcomes

    def wanted(name: str) -> bool:
        return only is None or name in only

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

        def transform(watch: Callable | None = None, timeout: float = STUCK_AFTER_SECONDS) -> Job:
            job = _pipeline("transform", env=env, watch=watch, timeout=timeout)
            outputs.append(job.output)
            return job

        def kill_transform(name: str, whole_job: bool, survived: str) -> None:
            """SIGKILL a transform at a seeded point of its dbt build (the whole job, or only its
            `pipeline` process); then the marts must be as before, and the next run must proceed
            and give the same marts."""
            started = time.monotonic()
            killed: list[str] = []
            job = transform(_kill_after(rng.uniform(0, 10), killed, "dbt build", whole_job))
            problem = job.problem("transform") if job.outlived else ""
            try:
                if not problem and marts(warehouse) != reference_marts:
                    problem = "marts changed after the kill"
            except duckdb.Error as error:
                problem = f"marts unreadable after the kill: {error}"
            if not problem:
                rerun = transform()
                if rerun.problem("transform"):
                    problem = f"the next run: {rerun.problem('transform')}"
                elif marts(warehouse) != reference_marts:
                    problem = "the next run gave other marts"
            what = ", ".join(sorted(set(killed))) or "nothing (it had ended)"
            record(
                Outcome(
                    name,
                    "FAILED" if problem else "survived",
                    detail=problem or f"killed {what}; {survived}",
                    seconds=time.monotonic() - started,
                )
            )

        # 1. The same logical date twice (once when only the scenarios after it are wanted: they
        # need a warehouse and a lake to start from).
        started = time.monotonic()
        runs = []
        for _ in range(2 if wanted("airflow_same_date_twice") else 1):
            job = _pipeline("run", "--logical-date", LOGICAL_DATE, env=env, watch=sample_listeners)
            outputs.append(job.output)
            if job.problem("run"):
                record(Outcome("airflow_same_date_twice", "FAILED", detail=job.problem("run")))
                return outcomes
            runs.append((marts(warehouse), lake(data / "lake")))
        if wanted("airflow_same_date_twice"):
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
        reference_marts, reference_lake = runs[-1]

        # 2. kill -9 of the whole transform job; 3. of its `pipeline` process alone.
        if wanted("kill9_dbt"):
            kill_transform("kill9_dbt", True, "marts intact, next run identical")
        if wanted("kill9_transform_cli"):
            kill_transform(
                "kill9_transform_cli",
                False,
                "its dbt exited with it, marts intact, next run identical",
            )

        # 4. A transform meets another writer of the warehouse.
        if wanted("transform_meets_writer"):
            started = time.monotonic()
            with holding_for_writing(warehouse) as holder:
                job = transform(timeout=600)
            lines = job.output.strip().splitlines()
            said = next((line for line in reversed(lines) if f"PID {holder.pid}" in line), "")
            problem = job.problem("transform") if job.outlived or job.code is None else ""
            if not problem and job.code == 0:
                problem = "the transform ran while another process held the warehouse"
            elif not problem and not said:
                problem = f"no line names the holder (PID {holder.pid}): {job.output[-200:]}"
            record(
                Outcome(
                    "transform_meets_writer",
                    "FAILED" if problem else "failed-loud",
                    detail=problem or said.strip()[:300],
                    seconds=time.monotonic() - started,
                )
            )

        # 5. kill -9 of the lake's Spark job at two points.
        if wanted("kill9_lake_publish"):
            started = time.monotonic()
            problems = []
            kills = 0
            for delay in (rng.uniform(5, 20), rng.uniform(20, 45)):
                killed = []
                # A full refresh rewrites every table: a kill lands mid-write or mid-merge.
                job = _pipeline(
                    *("lake", "--full-refresh", "--run-date", LOGICAL_DATE),
                    env=env,
                    watch=_kill_after(delay, killed),
                )
                outputs.append(job.output)
                kills += bool(killed)
                if job.outlived:
                    problems.append(job.problem("lake"))
                now = lake(data / "lake")
                problems += [
                    f"{name} after a kill at {delay:.0f}s"
                    for name in _differences(reference_lake, now)
                ]
            # The incremental rerun finds no checkpoint (the killed refresh removed it): it
            # merges all of bronze into what the kills left, and must converge.
            job = _pipeline("lake", "--run-date", LOGICAL_DATE, env=env)
            outputs.append(job.output)
            if job.problem("lake"):
                problems.append(f"the rerun: {job.problem('lake')}")
            else:
                problems += [
                    f"{n} after the rerun"
                    for n in _differences(reference_lake, lake(data / "lake"))
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

        # Secrets, loopback.
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
