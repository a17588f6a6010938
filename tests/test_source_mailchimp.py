"""source-mailchimp against the real mock server (and requests-mock for the one fault case)."""

import base64
import logging
from typing import Any

import orjson
import pytest
import requests
import requests_mock
from airbyte_cdk.models import AirbyteMessageSerializer, FailureType, Status, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.state_builder import StateBuilder
from jsonschema import Draft7Validator
from source_mailchimp import SourceMailchimp

STREAMS = {
    "lists": [["id"]],
    "list_members": [["id"], ["list_id"]],
    "segments": [["id"], ["list_id"]],
    "tags": [["id"], ["list_id"]],
    "campaigns": [["id"]],
    "reports": [["id"]],
    "email_activity": [["campaign_id"], ["email_id"], ["action"], ["timestamp"]],
    "unsubscribes": [["campaign_id"], ["email_id"]],
}
logger = logging.getLogger("airbyte")


@pytest.fixture(scope="module")
def config(mock_api) -> dict[str, Any]:
    return {"apikey": mock_api.mailchimp_api_key, "base_url": mock_api.mailchimp_base_url}


@pytest.fixture(scope="module")
def full_read(config) -> EntrypointOutput:
    return read(SourceMailchimp(), config, _catalog(*STREAMS))


def _catalog(*streams: str, mode: SyncMode = SyncMode.full_refresh):
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, mode)
    return builder.build()


def _all_output(output: EntrypointOutput) -> str:
    return "\n".join(
        orjson.dumps(AirbyteMessageSerializer.dump(m)).decode()
        for m in output.get_message_iterator()
    )


def test_spec_is_a_valid_schema_with_the_key_secret():
    spec = SourceMailchimp().spec(logger).connectionSpecification
    Draft7Validator.check_schema(spec)
    assert spec["required"] == ["apikey"]
    assert spec["properties"]["apikey"]["airbyte_secret"] is True
    assert spec["properties"]["page_size"]["maximum"] == 1000


def test_check_succeeds_with_the_mock_key(config):
    assert SourceMailchimp().check(logger, config).status == Status.SUCCEEDED


def test_check_with_a_wrong_key_fails_without_echoing_it(config):
    wrong_key = "wrong0key0abcdef0123456789abcdef-us6"
    status = SourceMailchimp().check(logger, {**config, "apikey": wrong_key})
    assert status.status == Status.FAILED
    assert "401" in status.message
    assert wrong_key not in status.message and "wrong0key" not in status.message


def test_discover_lists_the_streams_and_their_keys(config):
    catalog = discover(SourceMailchimp(), config).catalog.catalog
    assert {s.name: s.source_defined_primary_key for s in catalog.streams} == STREAMS
    for stream in catalog.streams:
        Draft7Validator.check_schema(stream.json_schema)


def test_read_returns_exactly_the_mock_truth(full_read, mock_api):
    assert not full_read.errors, full_read.get_formatted_error_message()
    truth = mock_api.truth(keys=True)
    for stream, key_fields in STREAMS.items():
        records = [m.record.data for m in full_read.records if m.record.stream == stream]
        keys = [tuple(r.get(f[0]) for f in key_fields) for r in records]
        assert len(keys) == truth["counts"][stream], stream
        assert len(set(keys)) == len(keys), f"duplicates in {stream}"
        expected = {tuple(k) if isinstance(k, list) else (k,) for k in truth["keys"][stream]}
        assert set(keys) == expected, stream
    # email_activity reads only sent campaigns: one report each.
    activity_campaigns = {
        m.record.data["campaign_id"]
        for m in full_read.records
        if m.record.stream == "email_activity"
    }
    assert activity_campaigns <= {c["campaign_id"] for c in truth["campaigns"]}


def test_email_activity_is_one_flat_record_per_event(full_read):
    events = [m.record.data for m in full_read.records if m.record.stream == "email_activity"]
    allowed = {"campaign_id", "list_id", "list_is_active", "email_id", "email_address"}
    allowed |= {"action", "type", "timestamp", "url", "ip"}
    assert events and all(set(e) <= allowed for e in events)
    assert {e["action"] for e in events} <= {"open", "click", "bounce"}
    assert all(e.get("type") in ("hard", "soft") for e in events if e["action"] == "bounce")


def test_the_key_never_appears_in_any_output(config, mock_api, capfd, caplog):
    """Debug mode logs every request with its headers (to stdout, or to pytest's log capture)."""
    caplog.set_level("DEBUG")
    output = read(SourceMailchimp(), config, _catalog(*STREAMS), debug=True)
    captured = capfd.readouterr()
    text = _all_output(output) + captured.out + captured.err + caplog.text
    key = mock_api.mailchimp_api_key
    basic = base64.b64encode(f"anystring:{key}".encode()).decode()
    assert key not in text and basic not in text
    assert "Making outbound API request" in text  # the headers were logged, masked


def test_a_200_without_the_envelope_fails_the_stream_loudly():
    config = {"apikey": "abc-us6", "base_url": "https://mock.test/3.0"}
    with requests_mock.Mocker() as mocker:
        mocker.get("https://mock.test/3.0/lists", json={"total_items": 3})
        output = read(SourceMailchimp(), config, _catalog("lists"))
    assert not output.records
    assert any("no 'lists' array" in e.trace.error.message for e in output.errors)


def test_a_key_without_data_centre_is_a_config_error_naming_the_field():
    output = read(SourceMailchimp(), {"apikey": "nodatacentre"}, _catalog("lists"))
    errors = [e.trace.error for e in output.errors]
    assert errors and errors[0].failure_type == FailureType.config_error
    assert "'apikey'" in errors[0].message and "nodatacentre" not in _all_output(output)


INCREMENTAL = {  # stream: (partition key, cursor field, server-side filter)
    "list_members": ("list_id", "last_changed", "since_last_changed"),
    "segments": ("list_id", "updated_at", "since_updated_at"),
    "email_activity": ("campaign_id", "timestamp", "since"),
}


@pytest.mark.parametrize("stream", INCREMENTAL)
def test_a_partition_cursor_reads_only_what_changed_since_with_the_server_filter(
    stream, config, monkeypatch
):
    """State per partition; from a mid-point cursor per partition, exactly the later records."""
    partition_key, cursor, filter_param = INCREMENTAL[stream]
    key_fields = [f[0] for f in STREAMS[stream]]
    first = read(SourceMailchimp(), config, _catalog(stream, mode=SyncMode.incremental))
    records = [m.record.data for m in first.records]
    partitions = first.most_recent_state.stream_state.partitions
    by_partition: dict[str, list[str]] = {}
    for record in records:
        by_partition.setdefault(record[partition_key], []).append(record[cursor])
    assert {p: c[cursor] for p, c in partitions.items() if c} == {
        p: max(values) for p, values in by_partition.items()
    }

    middle = {p: sorted(values)[len(values) // 2] for p, values in by_partition.items()}
    state = {"partitions": {p: {cursor: value} for p, value in middle.items()}}
    urls: list[str] = []
    send = requests.adapters.HTTPAdapter.send
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda adapter, request, **kw: urls.append(request.url) or send(adapter, request, **kw),
    )
    again = read(
        SourceMailchimp(),
        config,
        _catalog(stream, mode=SyncMode.incremental),
        state=StateBuilder().with_stream_state(stream, state).build(),
    )
    expected = {
        tuple(r[f] for f in key_fields)
        for r in records
        if r[partition_key] in middle and r[cursor] >= middle[r[partition_key]]
    }
    assert {tuple(m.record.data[f] for f in key_fields) for m in again.records} == expected
    filtered = [u for u in urls if f"{filter_param}=" in u]
    assert len(filtered) >= len(middle), "every partition with a cursor is read with the filter"
