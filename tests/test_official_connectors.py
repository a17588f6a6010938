"""Clients we did not write: Airbyte's published MailChimp, HubSpot and Google Sheets connectors.

Each runs in its own environment (testbench/official_connectors), with only the real API's
address changed to the mock's. They must check, discover and read every stream they offer with no
error, full refresh and then incrementally from their own state after the mock's clock moves a
day; every stream's records match the mock's truth (streams for what the world does not model
read empty, as the real API answers an account without it).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import requests

from testbench.official_connectors import (
    CONFIGS,
    GOOGLE_SHEETS,
    HUBSPOT,
    MAILCHIMP,
    Official,
    configured_catalog,
    install,
    per_stream_state,
    run,
)
from testbench.support import running_mock_apis

# The streams whose records the world models, by the truth's count of the same name (both
# sources share the truth's namespace: HubSpot's `campaigns` are not MailChimp's).
MODELLED = {
    "mailchimp": {
        "campaigns", "email_activity", "lists", "list_members", "reports", "segments", "tags",
        "unsubscribes",
    },
    "hubspot": {"companies", "contacts", "deals", "deal_pipelines", "email_events", "owners"},
}  # fmt: skip


@pytest.fixture
def mock_url():  # one world per connector: the test moves its clock
    # The default world, with its mess: every defect is one the real APIs can serve.
    with running_mock_apis("--scale", "200", "--seed", "42") as (url, _):
        yield url


def _truth(url: str, connector: Official) -> dict[str, int]:
    counts = requests.get(f"{url}/_mock/truth", timeout=60).json()["counts"]
    return {name: counts[name] for name in MODELLED[connector.name]}


def _failures(messages: list[dict]) -> list[str]:
    found = []
    for message in messages:
        if message["type"] == "EXIT":
            found.append(f"exit {message['code']}: {message['stderr'][-800:]}")
        elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
            found.append(message["trace"]["error"].get("internal_message") or str(message))
    return found


def _statuses(messages: list[dict]) -> dict[str, str]:
    last = {}
    for message in messages:
        if message["type"] == "TRACE" and message["trace"]["type"] == "STREAM_STATUS":
            status = message["trace"]["stream_status"]
            last[status["stream_descriptor"]["name"]] = status["status"]
    return last


def _installed_checked_and_discovered(
    connector: Official, mock_url: str, work: Path
) -> tuple[Path, list[dict]]:
    """Install it, write its config, check it (must succeed), discover its streams; write the
    configured catalog of every stream (incremental where offered) to ``work``."""
    executable = install(connector, mock_url)
    (work / "config.json").write_text(json.dumps(CONFIGS[connector.name]))
    check = run(executable, "check", "--config", "config.json", cwd=work)
    statuses = [m["connectionStatus"] for m in check if m["type"] == "CONNECTION_STATUS"]
    assert statuses and statuses[-1]["status"] == "SUCCEEDED", statuses or _failures(check)
    discover = run(executable, "discover", "--config", "config.json", cwd=work)
    assert _failures(discover) == []
    streams = next(m["catalog"]["streams"] for m in discover if m["type"] == "CATALOG")
    (work / "catalog.json").write_text(json.dumps(configured_catalog(streams)))
    return executable, streams


@pytest.mark.parametrize("connector", [MAILCHIMP, HUBSPOT], ids=lambda c: c.name)
def test_airbytes_published_connector_reads_every_stream_full_then_incremental(
    connector: Official, mock_url: str, tmp_path: Path
):
    executable, streams = _installed_checked_and_discovered(connector, mock_url, tmp_path)
    names = {stream["name"] for stream in streams}

    truth = _truth(mock_url, connector)
    full = run(
        executable, "read", "--config", "config.json", "--catalog", "catalog.json", cwd=tmp_path
    )
    assert _failures(full) == []
    assert _statuses(full) == dict.fromkeys(names, "COMPLETE")
    counts = Counter(m["record"]["stream"] for m in full if m["type"] == "RECORD")
    # Every stream holds what the world holds: the modelled ones their truth, the rest nothing.
    assert {name: counts[name] for name in names} == {name: truth.get(name, 0) for name in names}
    assert MODELLED[connector.name] <= names

    state = per_stream_state(full)
    assert state, "an incremental read needs the state the full read emitted"
    (tmp_path / "state.json").write_text(json.dumps(state))
    requests.post(f"{mock_url}/_mock/advance", params={"days": 1}, timeout=120).raise_for_status()
    later = _truth(mock_url, connector)
    incremental = run(
        executable,
        *("read", "--config", "config.json", "--catalog", "catalog.json"),
        *("--state", "state.json"),
        cwd=tmp_path,
    )
    assert _failures(incremental) == []
    assert _statuses(incremental) == dict.fromkeys(names, "COMPLETE")
    again = Counter(m["record"]["stream"] for m in incremental if m["type"] == "RECORD")
    for name in names:
        assert again[name] <= later.get(name, 0), name
    assert per_stream_state(incremental), "the incremental read emitted no state"


def test_airbytes_published_google_sheets_connector_reads_both_tabs(mock_url: str, tmp_path: Path):
    """Its OAuth client (the refresh-token grant) and its declarative streams, one per tab.

    It takes a tab's row 1 as the header. The spend tab's row 1 is a merged title above the
    real header (as people lay sheets out), so that stream's one column is the title and the real
    header row comes through as its first record (our connector takes the first row with two or
    more values as the header). The targets tab has its header in row 1.
    """
    executable, streams = _installed_checked_and_discovered(GOOGLE_SHEETS, mock_url, tmp_path)
    tabs = requests.get(f"{mock_url}/_mock/truth", timeout=60).json()["google_sheets"]["tabs"]
    assert {stream["name"] for stream in streams} == set(tabs)

    read = run(
        executable, "read", "--config", "config.json", "--catalog", "catalog.json", cwd=tmp_path
    )
    assert _failures(read) == []
    assert _statuses(read) == dict.fromkeys(tabs, "COMPLETE")
    records = [m["record"] for m in read if m["type"] == "RECORD"]
    rows = Counter(record["stream"] for record in records)
    # Every non-blank row below the header, no blank one; the spend tab's real header row too.
    assert rows == {
        "Campaign spend": tabs["Campaign spend"]["data_rows"] + 1,
        "Pipeline targets": tabs["Pipeline targets"]["data_rows"],
    }
    targets = [r["data"] for r in records if r["stream"] == "Pipeline targets"]
    assert all(
        set(target) == {"Audience", "Quarter", "Target pipeline (USD)", "Owner"}
        for target in targets
    )
