"""Runs the scenarios against real parts: a mock server, connector processes, DuckDB files."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psutil

from pipeline.sync import SyncError, SyncResult, configure_catalog, run_sync
from testbench.chaos import secrets, warehouse
from testbench.chaos.mock import Mock, running_mock
from testbench.chaos.scenarios import API_SCENARIOS, CRASH_SCENARIOS, SMALL_RUN, ApiScenario
from testbench.listeners import ListenerWatch

log = logging.getLogger(__name__)

# Small pages: many requests per sync, so paging is exercised and every scenario strikes.
PAGE_SIZE = {"mailchimp": 40, "hubspot": 25}
# The connectors' read timeout during the suite (their default is 120 s): the `hang` scenario
# holds an answer longer than this.
READ_TIMEOUT_SECONDS = "3"
CONNECTORS = {"mailchimp": "source-mailchimp", "hubspot": "source-hubspot"}


@dataclass
class Outcome:
    """One row of the closing table."""

    name: str
    status: str  # survived | failed-loud | FAILED
    lost: int = 0
    duplicates: int = 0
    secrets: int = 0
    detail: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("survived", "failed-loud")


@dataclass
class Suite:
    """What the scenarios share: the mock, the work folder, the catalogs, the captured output."""

    mock: Mock
    workdir: Path
    seed: int
    catalogs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def catalog(self, source: str) -> dict[str, Any]:
        """The configured catalog, discovered in-process (a connector start saved per source)."""
        if source not in self.catalogs:
            from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
            from source_hubspot import SourceHubspot
            from source_mailchimp import SourceMailchimp

            connector = {"mailchimp": SourceMailchimp, "hubspot": SourceHubspot}[source]()
            found = connector.discover(logging.getLogger("airbyte"), self.source_config(source))
            self.catalogs[source] = configure_catalog(AirbyteCatalogSerializer.dump(found))
        return self.catalogs[source]

    def source_config(self, source: str) -> dict[str, Any]:
        return {**self.mock.source_config(source), "page_size": PAGE_SIZE[source]}

    def sync(self, source: str, folder: Path) -> SyncResult:
        destination = {
            "destination_path": str(folder / "warehouse.duckdb"),
            "schema": f"raw_{source}",
        }
        return run_sync(
            CONNECTORS[source],
            self.source_config(source),
            destination,
            self.catalog(source),
            state_path=folder / f"{source}.state.json",
            # Short reads, so that a hung API fails a sync in seconds.
            env={**os.environ, "CONNECTOR_READ_TIMEOUT_SECONDS": READ_TIMEOUT_SECONDS},
        )


class _Capture(logging.Handler):
    """Every log line of the syncs (connector LOG messages included), for the secret search."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(self.format(record))


@contextmanager
def suite(workdir: Path, seed: int, scale: int) -> Iterator[Suite]:
    """The shared mock and settings of a run; the process's logging is given back as it was at
    the end (pytest runs other tests in the same process)."""
    restore_console = None
    handler = _Capture([])
    previous_level = logging.getLogger("pipeline").level
    try:
        with running_mock(workdir, seed, scale) as mock:
            shared = Suite(mock, workdir, seed)
            for source in CONNECTORS:
                shared.catalog(source)  # discovered before any chaos
            # After discovery: the CDK, once imported, reconfigures logging (see quiet_console).
            restore_console = quiet_console()
            handler.sink = shared.outputs
            logging.getLogger().addHandler(handler)
            logging.getLogger("pipeline").setLevel(logging.DEBUG)
            yield shared
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("pipeline").setLevel(previous_level)
        if restore_console is not None:
            restore_console()


def quiet_console() -> Callable[[], None]:
    """Print warnings only, and not the connectors' own: under chaos their errors are expected.
    (The suite still captures every line, to search it for secrets.) Returns what undoes it.

    The CDK configures logging with dictConfig: a handler printing every debug line, and the
    loggers that existed before (pipeline.sync among them) disabled.
    """
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith("pipeline") and isinstance(logger, logging.Logger):
            logger.disabled = False

    def not_a_connector(record: logging.LogRecord) -> bool:
        return not record.name.startswith(("pipeline.sync", "airbyte"))

    changed = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Capture):
            continue
        changed.append((handler, handler.level))
        handler.setLevel(logging.WARNING)
        handler.addFilter(not_a_connector)

    def restore() -> None:
        for handler, level in changed:
            handler.setLevel(level)
            handler.removeFilter(not_a_connector)

    return restore


def readable(message: str) -> bool:
    """A person can act on it: one short explanation, no traceback, no secret."""
    return (
        bool(message.strip())
        and "Traceback" not in message
        and len(message) < 2000
        and not secrets.find_secrets([], [message])
    )


def run_api_scenario(
    shared: Suite, scenario: ApiScenario, sources: tuple[str, ...] | None = None
) -> Outcome:
    """Sync the sources with the scenario's faults on; then each that failed again, without."""
    sources = sources or scenario.sources
    started = time.monotonic()
    folder = shared.workdir / scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    truth = shared.mock.truth()
    failures: list[str] = []
    failed_sources: list[str] = []
    unreadable: list[str] = []
    for source in sources:
        shared.mock.faults(list(scenario.faults), shared.seed)
        try:
            shared.sync(source, folder)
        except SyncError as error:
            message = str(error)
            shared.outputs.append(message)
            failures.append(f"{source}: {message}")
            failed_sources.append(source)
            if not readable(message):
                unreadable.append(message)
        finally:
            report = shared.mock.calm()
        log.info("%s/%s: faults injected %s", scenario.name, source, report["injected"])
    # After a failure, the next clean run converges.
    rerun_errors = []
    for source in failed_sources:
        try:
            shared.sync(source, folder)
        except SyncError as error:
            rerun_errors.append(f"{source}: {error}")
    comparison = warehouse.Comparison()
    for source in sources:
        comparison.add(warehouse.compare(folder / "warehouse.duckdb", source, truth))
    found = secrets.find_secrets([folder], [*failures, *rerun_errors])
    if rerun_errors or unreadable or not comparison.equal or found:
        status = "FAILED"
    else:
        status = "failed-loud" if failures else "survived"
    detail = "; ".join(
        [*failures[:1], *(f"rerun failed: {e}" for e in rerun_errors[:1])]
        + [f"{k}: {v}" for k, v in comparison.per_stream.items()]
    )
    return Outcome(
        scenario.name,
        status,
        comparison.lost,
        comparison.duplicates,
        len(found),
        detail[:300],
        time.monotonic() - started,
    )


# --- kill -9 -----------------------------------------------------------------------------------


def _connector_processes(names: set[str]) -> list[psutil.Process]:
    """This process's children that are the named connectors (only what this suite started)."""
    found = []
    for process in psutil.Process().children(recursive=True):
        try:
            command = process.cmdline()[:2]
        except psutil.Error:  # exiting, or a zombie
            continue
        if any(Path(part).name in names for part in command):
            found.append(process)
    return found


@contextmanager
def _kill_after(delay: float, names: set[str]) -> Iterator[threading.Event]:
    """SIGKILL the named connector processes ``delay`` seconds from now (if still running)."""
    killed, done = threading.Event(), threading.Event()

    def watch() -> None:
        if done.wait(delay):
            return
        for process in _connector_processes(names):
            try:
                os.kill(process.pid, signal.SIGKILL)
                killed.set()
            except ProcessLookupError:
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield killed
    finally:
        done.set()
        watcher.join()


def _cursors(state_path: Path) -> dict[tuple[str, str], Any]:
    """Every cursor of a state file: (stream, partition) -> value."""
    if not state_path.exists():
        return {}
    cursors = {}
    for message in orjson.loads(state_path.read_bytes()):
        stream = message["stream"]["stream_descriptor"]["name"]
        state = message["stream"].get("stream_state") or {}
        for partition, cursor in (state.get("partitions") or {}).items():
            for name, value in cursor.items():
                cursors[(stream, f"{partition}.{name}")] = value
        for name, value in state.items():
            if name != "partitions" and not isinstance(value, dict):
                cursors[(stream, name)] = value
    return cursors


def _moved_back(before: dict, after: dict) -> list[str]:
    back = []
    for key, value in before.items():
        if key not in after:
            back.append(f"{key[0]} {key[1]} disappeared")
        elif after[key] < value:
            back.append(f"{key[0]} {key[1]}: {value} -> {after[key]}")
    return back


def run_kill9(shared: Suite, kills: int, sources: tuple[str, ...] = ("mailchimp",)) -> Outcome:
    """Per source: time a clean sync, then kill -9 a sync ``kills`` times at seeded random
    points, resuming each time; every time, no duplicate key and no cursor moved back; at the
    end, the warehouse equals the truth."""
    started = time.monotonic()
    rng = random.Random(shared.seed)
    truth = shared.mock.truth()
    problems: list[str] = []
    comparison = warehouse.Comparison()
    killed_count = 0
    for source in sources:
        timing = shared.workdir / f"kill9-{source}-timing"
        timing.mkdir(parents=True, exist_ok=True)
        clock = time.monotonic()
        shared.sync(source, timing)
        duration = time.monotonic() - clock
        folder = shared.workdir / f"kill9-{source}"
        folder.mkdir(parents=True, exist_ok=True)
        state_path = folder / f"{source}.state.json"
        names = {CONNECTORS[source], "destination-duckdb"}
        for _ in range(kills):
            # Connector start-up is most of a small sync: points over the whole duration.
            delay = rng.uniform(0.15, 1.0) * duration
            before = _cursors(state_path)
            with _kill_after(delay, names) as killed:
                try:
                    shared.sync(source, folder)
                except SyncError as error:
                    if not killed.is_set():
                        problems.append(f"failed without a kill: {error}")
            killed_count += killed.is_set()
            problems += _moved_back(before, _cursors(state_path))
            if (folder / "warehouse.duckdb").exists():
                partial = warehouse.compare(folder / "warehouse.duckdb", source, truth)
                if partial.duplicates:
                    problems.append(f"{partial.duplicates} duplicate keys after a kill")
                comparison.duplicates += partial.duplicates
        before = _cursors(state_path)
        shared.sync(source, folder)
        problems += _moved_back(before, _cursors(state_path))
        comparison.add(warehouse.compare(folder / "warehouse.duckdb", source, truth))
    found = secrets.find_secrets([shared.workdir / f"kill9-{s}" for s in sources])
    status = "survived" if not problems and comparison.equal and not found else "FAILED"
    detail = f"{killed_count} of {kills * len(sources)} syncs killed mid-way" + (
        f"; {problems[0]}" if problems else ""
    )
    return Outcome(
        "kill9_resume",
        status,
        comparison.lost,
        comparison.duplicates,
        len(found),
        detail,
        time.monotonic() - started,
    )


# --- two writers ---------------------------------------------------------------------------------


def run_second_writer(shared: Suite) -> Outcome:
    """A sync meets another process that holds the warehouse open for writing.

    DuckDB allows one writing process per file: the sync must fail with an error that says so
    (not hang, not corrupt anything), and once the other writer is gone the syncs converge. The
    other writer holds the file for as long as the sync runs (a process that opens the warehouse
    and waits), so the overlap never depends on which of two syncs happens to be faster.
    """
    started = time.monotonic()
    folder = shared.workdir / "second_writer"
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "warehouse.duckdb"
    truth = shared.mock.truth()
    shared.sync("mailchimp", folder)  # a warehouse with data in it, as a real one would have
    second_error = ""
    with holding_for_writing(database):
        try:
            shared.sync("hubspot", folder)
        except SyncError as error:
            second_error = str(error)
            shared.outputs.append(second_error)
    rerun_error = ""
    for source in CONNECTORS:
        try:
            shared.sync(source, folder)
        except SyncError as error:
            rerun_error = str(error)
    comparison = warehouse.Comparison()
    for source in CONNECTORS:
        comparison.add(warehouse.compare(folder / "warehouse.duckdb", source, truth))
    # DuckDB's own words ("Could not set lock") or the destination's ("open for writing by
    # another process"): either names the cause.
    explained = readable(second_error) and any(
        words in second_error.lower() for words in ("another process", "lock")
    )
    found = secrets.find_secrets([folder], [second_error])
    ok = explained and not rerun_error and comparison.equal and not found
    detail = second_error.splitlines()[0][:300] if second_error else "the second writer got in"
    if rerun_error:
        detail = rerun_error[:300]
    return Outcome(
        "second_writer",
        "failed-loud" if ok else "FAILED",
        comparison.lost,
        comparison.duplicates,
        len(found),
        detail,
        time.monotonic() - started,
    )


# Another writer of the warehouse: opens it for writing, says so, and keeps it until stdin closes.
HOLD_FOR_WRITING = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
connection.close()
"""


@contextmanager
def holding_for_writing(database: Path) -> Iterator[subprocess.Popen]:
    """Another process holds ``database`` open for writing for the duration of the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOR_WRITING, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        if holder.stdin is not None:
            holder.stdin.close()  # the other writer finishes
        holder.wait(timeout=60)


# --- the whole API + crash part -----------------------------------------------------------------


def run_sync_scenarios(
    seed: int,
    scale: int,
    kills: int,
    only: set[str] | None = None,
    workdir: Path | None = None,
    kill_sources: tuple[str, ...] = ("mailchimp",),
    small: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every API scenario, then the crash scenarios, against one private mock server."""
    outcomes: list[Outcome] = []

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if progress:
            progress(outcome)

    with tempfile.TemporaryDirectory(prefix="chaos-") as temporary:
        base = workdir or Path(temporary)
        with suite(base, seed, scale) as shared:
            for scenario in API_SCENARIOS:
                if small and scenario.name not in SMALL_RUN:
                    continue
                if only is None or scenario.name in only:
                    sources = SMALL_RUN[scenario.name] if small else scenario.sources
                    record(run_api_scenario(shared, scenario, sources))
            if only is None or "kill9_resume" in only:
                record(run_kill9(shared, kills, kill_sources))
            if only is None or "second_writer" in only:
                record(run_second_writer(shared))
            listening = ListenerWatch(shared.mock.pid)
            listening.sample()
            loopback = [str(listener) for listener in listening.exposed]
            ports = sorted(listening.addresses())
            found = secrets.find_secrets([shared.mock.log_path], shared.outputs)
            record(
                Outcome(
                    "loopback_only",
                    "FAILED" if loopback else "survived",
                    detail="; ".join(loopback) or f"mock-apis listens on {', '.join(ports)}",
                )
            )
            record(
                Outcome(
                    "secrets_in_outputs",
                    "FAILED" if found else "survived",
                    secrets=len(found),
                    detail="; ".join(found[:3])
                    or f"{len(shared.outputs)} log lines and errors, the mock's log, every "
                    "warehouse and state file: no secret",
                )
            )
    return outcomes


__all__ = ["CRASH_SCENARIOS", "Outcome", "run_sync_scenarios"]
