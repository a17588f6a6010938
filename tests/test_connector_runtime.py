"""The sources as processes: what ``source-mailchimp read`` and ``source-hubspot read`` write.

The console scripts start through ``connector_kit.runtime.launch_source`` (the CDK's own
``launch``) and run as real processes against the mock over loopback; their stdout must be the
Airbyte protocol, one message a line, with every state counting the records before it.
"""

import base64
import json
import logging
import subprocess
from collections.abc import Mapping
from typing import Any

import orjson
import pytest
from airbyte_cdk.models import AirbyteMessageSerializer
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
from airbyte_cdk.sources import AbstractSource
from connector_kit.protocol_lines import RECORD_STREAMS, cut_record_line
from source_hubspot import SourceHubspot
from source_mailchimp import SourceMailchimp

from pipeline.executables import console_script

logger = logging.getLogger("airbyte")


def _sources(mock_api) -> dict[str, tuple[type[AbstractSource], dict[str, Any], str]]:
    """console script: (source class, config, the secret that must never appear)."""
    return {
        "source-mailchimp": (
            SourceMailchimp,
            {"apikey": mock_api.mailchimp_api_key, "base_url": mock_api.mailchimp_base_url},
            mock_api.mailchimp_api_key,
        ),
        "source-hubspot": (
            SourceHubspot,
            {"access_token": mock_api.hubspot_token, "base_url": mock_api.hubspot_base_url},
            mock_api.hubspot_token,
        ),
    }


def _catalog(source: AbstractSource, config: Mapping[str, Any]) -> dict[str, Any]:
    """Every stream, incremental where it can be (so that states come per partition)."""
    streams = []
    for stream in AirbyteCatalogSerializer.dump(source.discover(logger, config))["streams"]:
        incremental = "incremental" in stream["supported_sync_modes"]
        streams.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append",
                "cursor_field": stream.get("default_cursor_field", []) if incremental else [],
            }
        )
    return {"streams": streams}


@pytest.fixture(scope="module", params=["source-mailchimp", "source-hubspot"])
def read_output(request, mock_api, tmp_path_factory):
    """(console script, the process's stdout lines)."""
    script = request.param
    source_class, config, secret = _sources(mock_api)[script]
    folder = tmp_path_factory.mktemp(script)
    config_path, catalog_path = folder / "config.json", folder / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(_catalog(source_class(), config)))
    arguments = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]

    done = subprocess.run([console_script(script), *arguments], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return script, done.stdout.splitlines(keepends=True)


def test_every_line_is_a_protocol_message(read_output):
    _, lines = read_output
    assert lines
    for line in lines:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        AirbyteMessageSerializer.load(orjson.loads(line))


def test_record_lines_are_in_the_layout_the_orchestrator_and_the_destination_cut(read_output):
    """Records are found without parsing (connector_kit.protocol_lines): a layout the CDK
    changed would still load, parsed line by line, but many times slower."""
    _, lines = read_output
    records = [(line, orjson.loads(line)["record"]) for line in lines if b'"RECORD"' in line[:20]]
    assert len(records) > 100
    for line, record in records:
        cut = cut_record_line(line)
        assert cut is not None, line[:200]
        stream, data, emitted_at = cut
        assert (stream, orjson.loads(data), emitted_at) == (
            record["stream"],
            record["data"],
            record["emitted_at"],
        )
    assert len(RECORD_STREAMS.findall(b"\n" + b"".join(lines))) == len(records)


def test_each_state_counts_the_records_of_its_stream_since_the_last(read_output):
    _, lines = read_output
    since_state: dict[str, int] = {}
    states = 0
    for line in lines:
        message = orjson.loads(line)
        if message["type"] == "RECORD":
            stream = message["record"]["stream"]
            since_state[stream] = since_state.get(stream, 0) + 1
        elif message["type"] == "STATE":
            stream = message["state"]["stream"]["stream_descriptor"]["name"]
            assert message["state"]["sourceStats"]["recordCount"] == since_state.pop(stream, 0)
            states += 1
    assert states


def test_the_records_are_the_mock_truth(read_output, mock_api):
    script, lines = read_output
    counts: dict[str, int] = {}
    for line in lines:
        message = orjson.loads(line)
        if message["type"] == "RECORD":
            counts[message["record"]["stream"]] = counts.get(message["record"]["stream"], 0) + 1
    truth = mock_api.truth()["counts"]
    if script == "source-mailchimp":
        assert counts == {stream: truth[stream] for stream in counts}
        assert set(counts) >= {"lists", "list_members", "campaigns", "email_activity"}
    else:
        assert counts["contacts"] == truth["contacts"]


def test_debug_output_holds_no_secret(read_output, mock_api, tmp_path):
    """``--debug`` logs every request with its headers, masked by the CDK's filter."""
    script = read_output[0]
    source_class, config, secret = _sources(mock_api)[script]
    config_path, catalog_path = tmp_path / "config.json", tmp_path / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(_catalog(source_class(), config)))
    arguments = ["read", "--debug", "--config", str(config_path), "--catalog", str(catalog_path)]
    done = subprocess.run([console_script(script), *arguments], capture_output=True, timeout=600)
    assert done.returncode == 0
    text = done.stdout + done.stderr
    assert b"Making outbound API request" in text
    basic = base64.b64encode(f"anystring:{secret}".encode())
    assert secret.encode() not in text and basic not in text
