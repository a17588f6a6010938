"""Whole syncs (source | destination subprocesses, as pipeline.sync runs them) over time.

A full sync, the mock's clock moved on, an incremental sync: the warehouse then equals the mock's
ground truth with no duplicate key, and the second sync read only what changed. A sync killed
with SIGKILL part way resumes from the committed state to the same warehouse.

These tests move the clock, so they run their own mock server rather than the session's.
"""

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psutil
import pytest
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
from conftest import MockApi, running_mock_api
from source_hubspot import SourceHubspot
from source_mailchimp import SourceMailchimp

from pipeline import sync
from testbench.chaos.warehouse import STREAM_KEYS

SOURCES = {
    "mailchimp": {
        "connector": "source-mailchimp",
        "class": SourceMailchimp,
        "config": lambda mock: {
            "apikey": mock.mailchimp_api_key,
            "base_url": mock.mailchimp_base_url,
        },
        "streams": STREAM_KEYS["mailchimp"],
    },
    "hubspot": {
        "connector": "source-hubspot",
        "class": SourceHubspot,
        "config": lambda mock: {"access_token": mock.hubspot_token, "base_url": mock.url},
        "streams": STREAM_KEYS["hubspot"],
    },
}


@pytest.fixture(scope="module")
def clock_mock() -> Iterator[MockApi]:
    """A mock server of its own, whose simulated clock the tests move."""
    with running_mock_api() as api:
        yield api


def _catalog(source: str, mock: MockApi) -> dict[str, Any]:
    """The configured catalog, discovered in-process: one connector start less (seconds each)."""
    spec = SOURCES[source]
    catalog = spec["class"]().discover(logging.getLogger("airbyte"), spec["config"](mock))
    return sync.configure_catalog(AirbyteCatalogSerializer.dump(catalog))


def _sync(
    source: str, mock: MockApi, catalog: dict[str, Any], warehouse: Path, state: Path
) -> sync.SyncResult:
    spec = SOURCES[source]
    destination = {"destination_path": str(warehouse), "schema": f"raw_{source}"}
    return sync.run_sync(
        spec["connector"], spec["config"](mock), destination, catalog, state_path=state
    )


def _total_records(source: str, mock: MockApi) -> int:
    """What a full read would return now, from the truth's counts."""
    counts = mock.truth()["counts"]
    return sum(counts[stream] for stream in SOURCES[source]["streams"])


def _assert_warehouse_is_the_truth(source: str, mock: MockApi, warehouse: Path) -> None:
    truth = mock.truth(keys=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for stream, key in SOURCES[source]["streams"].items():
            columns = ", ".join(f'"{c}"::VARCHAR' for c in key)
            rows = con.execute(f"select {columns} from raw_{source}.{stream}").fetchall()
            assert len(rows) == len(set(rows)), f"duplicate keys in {stream}"
            expected = {
                tuple(str(v) for v in (k if isinstance(k, list) else [k]))
                for k in truth["keys"][stream]
            }
            actual = {tuple(_as_truth_text(v) for v in row) for row in rows}
            assert actual == expected, f"{stream}: {len(actual ^ expected)} keys differ"


def _as_truth_text(value: str) -> str:
    """DuckDB prints a TIMESTAMPTZ key as ``2026-01-01 10:00:00+00``; the truth as the API did."""
    if len(value) >= 22 and value[10] == " " and value.endswith("+00"):
        return f"{value[:10]}T{value[11:19]}+00:00"
    return value


def _state_of(path: Path) -> dict[str, Any]:
    return {
        m["stream"]["stream_descriptor"]["name"]: m["stream"]["stream_state"]
        for m in orjson.loads(path.read_bytes())
    }


@pytest.mark.parametrize(
    ("source", "kill_after"), [("mailchimp", "email_activity"), ("hubspot", "contacts")]
)
def test_killed_resumed_then_incremental_syncs_keep_the_warehouse_equal_to_the_truth(
    source, kill_after, clock_mock, tmp_path
):
    """A first sync killed part way, resumed; the clock moved a day; an incremental sync.

    The first sync is stopped with SIGKILL (source and destination) as soon as ``kill_after``
    has committed state, so part of the data is loaded and part is not.
    """
    warehouse, state = tmp_path / "warehouse.duckdb", tmp_path / f"{source}.json"
    catalog = _catalog(source, clock_mock)

    with (
        _killed_once_committed(source, kill_after, state) as killed,
        pytest.raises(sync.SyncError),
    ):
        _sync(source, clock_mock, catalog, warehouse, state)
    assert killed.is_set(), "the sync ended before it could be killed"
    _sync(source, clock_mock, catalog, warehouse, state)
    _assert_warehouse_is_the_truth(source, clock_mock, warehouse)

    clock_mock.advance(1)
    full_read = _total_records(source, clock_mock)
    incremental = _sync(source, clock_mock, catalog, warehouse, state)
    _assert_warehouse_is_the_truth(source, clock_mock, warehouse)
    assert 0 < incremental.records < full_read / 5, (incremental, full_read)


@contextmanager
def _killed_once_committed(source: str, stream: str, state: Path) -> Iterator[threading.Event]:
    """SIGKILL the sync's connector processes once ``stream`` has state in the state file."""
    connectors = {SOURCES[source]["connector"], "destination-duckdb"}
    killed, done = threading.Event(), threading.Event()

    def watch() -> None:
        while not done.is_set():
            if state.exists() and stream in _state_of(state):
                for process in psutil.Process().children(recursive=True):
                    try:  # other children of pytest may be exiting or already zombies
                        command = process.cmdline()[:2]
                    except psutil.Error:
                        continue
                    if any(Path(part).name in connectors for part in command):
                        os.kill(process.pid, signal.SIGKILL)
                        killed.set()
                if killed.is_set():
                    return
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield killed
    finally:
        done.set()
        watcher.join()
