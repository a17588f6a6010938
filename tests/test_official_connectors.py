"""Clients we did not write: Airbyte's published MailChimp and HubSpot connectors against the mock.

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
    # A clean world: the mock's deliberate deal-amount mess ("$38,000" in `amount`) is one that a
    # real HubSpot number property refuses, and Airbyte's connector casts numbers by their type
    # and stops on it (docs/real-apis.md). Every other client's data is the same either way.
    with running_mock_apis("--scale", "200", "--seed", "42", "--dirty-rate", "0") as (url, _):
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


@pytest.mark.parametrize("connector", [MAILCHIMP, HUBSPOT], ids=lambda c: c.name)
def test_airbytes_published_connector_reads_every_stream_full_then_incremental(
    connector: Official, mock_url: str, tmp_path: Path
):
    executable = install(connector, mock_url)
    (tmp_path / "config.json").write_text(json.dumps(CONFIGS[connector.name]))

    check = run(executable, "check", "--config", "config.json", cwd=tmp_path)
    statuses = [m["connectionStatus"] for m in check if m["type"] == "CONNECTION_STATUS"]
    assert statuses and statuses[-1]["status"] == "SUCCEEDED", statuses or _failures(check)

    discover = run(executable, "discover", "--config", "config.json", cwd=tmp_path)
    assert _failures(discover) == []
    streams = next(m["catalog"]["streams"] for m in discover if m["type"] == "CATALOG")
    names = {stream["name"] for stream in streams}
    (tmp_path / "catalog.json").write_text(json.dumps(configured_catalog(streams)))

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
