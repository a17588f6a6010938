"""connector_kit.runtime: the sources' fast output path against what the CDK itself writes.

The sources' console scripts run as real processes against the mock over loopback; their stdout is
compared line by line with the CDK's own ``AirbyteEntrypoint`` driving the same source with the
CDK's record path (no overrides), in this process.
"""

import base64
import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteRecordMessage,
    ConfiguredAirbyteCatalogSerializer,
    ConnectorSpecification,
    SyncMode,
    Type,
)
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import CheckpointMixin, Stream
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_protocol_dataclasses.models import AirbyteRecordMessageMeta
from connector_kit.runtime import BlockStdout, RecordSource, SourceEntrypoint, record_line
from source_hubspot import SourceHubspot
from source_mailchimp import SourceMailchimp

BIN = Path(sys.executable).parent
EMITTED_AT = re.compile(rb'"emitted_at":[0-9.]+')
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


def _plain(source_class: type[AbstractSource]) -> AbstractSource:
    """The source with the CDK's own record path: none of RecordSource's overrides."""
    plain = type(
        f"Plain{source_class.__name__}",
        (source_class,),
        {
            "__module__": source_class.__module__,  # where the CDK looks for spec.json
            "_get_message": AbstractSource._get_message,
            "_emit_queued_messages": AbstractSource._emit_queued_messages,
        },
    )
    return plain()


def _protocol_lines(lines: Iterable[bytes]) -> list[bytes]:
    """Records, states and traces, with their emission times blanked; logs left out."""
    kept = []
    for line in lines:
        if orjson.loads(line)["type"] in ("RECORD", "STATE", "TRACE"):
            kept.append(EMITTED_AT.sub(b'"emitted_at":0', line.rstrip(b"\n")))
    return kept


@pytest.fixture(scope="module", params=["source-mailchimp", "source-hubspot"])
def read_both_ways(request, mock_api, tmp_path_factory):
    """(console script, the process's stdout lines, the CDK's lines in-process, secret)."""
    script = request.param
    source_class, config, secret = _sources(mock_api)[script]
    folder = tmp_path_factory.mktemp(script)
    config_path, catalog_path = folder / "config.json", folder / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(_catalog(source_class(), config)))
    arguments = ["read", "--config", str(config_path), "--catalog", str(catalog_path)]

    done = subprocess.run([str(BIN / script), *arguments], capture_output=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    process_lines = done.stdout.splitlines(keepends=True)

    entrypoint = AirbyteEntrypoint(_plain(source_class))
    cdk_lines = [f"{line}\n".encode() for line in entrypoint.run(entrypoint.parse_args(arguments))]
    return script, process_lines, cdk_lines, secret


def test_every_line_is_a_protocol_message(read_both_ways):
    _, lines, _, _ = read_both_ways
    assert lines
    for line in lines:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        AirbyteMessageSerializer.load(orjson.loads(line))


def test_the_output_is_what_the_cdk_writes_apart_from_times(read_both_ways):
    """Records byte for byte (emitted_at aside), states with their counts, stream statuses."""
    _, lines, cdk_lines, _ = read_both_ways
    ours, theirs = _protocol_lines(lines), _protocol_lines(cdk_lines)
    assert sum(line.startswith(b'{"type":"RECORD"') for line in ours) > 100
    assert sum(line.startswith(b'{"type":"STATE"') for line in ours) > 1
    assert ours == theirs


def test_each_state_counts_the_records_of_its_stream_since_the_last(read_both_ways):
    _, lines, _, _ = read_both_ways
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


def test_the_records_are_the_mock_truth(read_both_ways, mock_api):
    script, lines, _, _ = read_both_ways
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


def test_debug_output_holds_no_secret(read_both_ways, mock_api, tmp_path):
    """``--debug`` logs every request with its headers through the block writer, masked."""
    script = read_both_ways[0]
    source_class, config, secret = _sources(mock_api)[script]
    config_path, catalog_path = tmp_path / "config.json", tmp_path / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(_catalog(source_class(), config)))
    arguments = ["read", "--debug", "--config", str(config_path), "--catalog", str(catalog_path)]
    done = subprocess.run([str(BIN / script), *arguments], capture_output=True, timeout=600)
    assert done.returncode == 0
    text = done.stdout + done.stderr
    assert b"Making outbound API request" in text
    basic = base64.b64encode(f"anystring:{secret}".encode())
    assert secret.encode() not in text and basic not in text


@pytest.mark.parametrize(
    "record",
    [
        AirbyteRecordMessage(stream="s", data={"a": 1, "b": None, "c": {"d": None}}, emitted_at=5),
        AirbyteRecordMessage(
            stream="s", data={"l": [None, {"x": None}]}, emitted_at=5, namespace="n"
        ),
        AirbyteRecordMessage(stream="s", data={"big": 2**70, "none": None}, emitted_at=5),
        AirbyteRecordMessage(stream="s", data={1: "int key", "é": "ü"}, emitted_at=5),
        AirbyteRecordMessage(
            stream="s", data={"a": 1}, emitted_at=5, meta=AirbyteRecordMessageMeta(changes=[])
        ),
        AirbyteRecordMessage(stream="s", data={}, emitted_at=1.5),
    ],
)
def test_a_record_line_is_the_cdk_serialization(record):
    message = AirbyteMessage(type=Type.RECORD, record=record)
    expected = AirbyteEntrypoint.airbyte_message_to_string(message) + "\n"
    assert record_line(message) == expected.encode()


class _FakeStdout:
    """The real stdout's two layers, in memory."""

    encoding, errors = "utf-8", "strict"

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def flush(self) -> None:
        pass


class _Numbers(Stream, CheckpointMixin):
    """Two slices of three records; notes what reached stdout when each slice starts."""

    name = "numbers"
    primary_key = "n"
    cursor_field = "n"

    def __init__(self, stdout: _FakeStdout) -> None:
        self._state: dict[str, Any] = {}
        self.stdout = stdout
        self.seen_at_slice_start: list[bytes] = []

    @property
    def state(self) -> Mapping[str, Any]:
        return self._state

    @state.setter
    def state(self, value: Mapping[str, Any]) -> None:
        self._state = dict(value or {})

    def get_json_schema(self) -> Mapping[str, Any]:
        return {"type": "object", "properties": {"n": {"type": "integer"}}}

    def stream_slices(self, **_: Any) -> Iterable[Mapping[str, Any] | None]:
        yield {"part": 1}
        yield {"part": 2}

    def read_records(self, sync_mode, cursor_field=None, stream_slice=None, stream_state=None):
        self.seen_at_slice_start.append(self.stdout.buffer.getvalue())
        for n in range(3):
            number = stream_slice["part"] * 10 + n
            yield {"n": number}
            self._state = {"n": number}


class _NumbersSource(RecordSource):
    def __init__(self, stream: _Numbers) -> None:
        self.stream = stream

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecification(connectionSpecification={})

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]):
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [self.stream]


def test_a_state_reaches_stdout_before_the_next_slice_is_read(tmp_path):
    """A state is written out at once, with the records before it, never held in the block."""
    stdout = _FakeStdout()
    stream = _Numbers(stdout)
    catalog = CatalogBuilder().with_stream("numbers", SyncMode.incremental).build()
    (tmp_path / "config.json").write_text("{}")
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(ConfiguredAirbyteCatalogSerializer.dump(catalog)))
    output = BlockStdout(stdout)  # type: ignore[arg-type]
    entrypoint = SourceEntrypoint(_NumbersSource(stream), output)
    arguments = ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(catalog_path)]
    for line in entrypoint.run(entrypoint.parse_args(arguments)):
        output.write(f"{line}\n")
    output.flush()

    before_second = stream.seen_at_slice_start[1].splitlines()
    assert [orjson.loads(line)["type"] for line in before_second][-4:] == ["RECORD"] * 3 + ["STATE"]
    state = orjson.loads(before_second[-1])["state"]
    assert state["stream"]["stream_state"] == {"n": 12}
    assert state["sourceStats"]["recordCount"] == 3.0
    everything = [orjson.loads(line) for line in stdout.buffer.getvalue().splitlines()]
    assert [m["record"]["data"]["n"] for m in everything if m["type"] == "RECORD"] == [
        10,
        11,
        12,
        20,
        21,
        22,
    ]
