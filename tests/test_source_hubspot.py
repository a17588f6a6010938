"""source-hubspot against the real mock server (and requests-mock for the one fault case)."""

import logging
from typing import Any

import orjson
import pytest
import requests_mock
from airbyte_cdk.models import AirbyteMessageSerializer, AirbyteStateMessage, Status, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.state_builder import StateBuilder
from jsonschema import Draft7Validator
from source_hubspot import SourceHubspot

CRM_STREAMS = ("contacts", "companies", "deals")
STREAMS = (*CRM_STREAMS, "owners", "deal_pipelines", "email_events")
logger = logging.getLogger("airbyte")


@pytest.fixture(scope="module")
def config(mock_api) -> dict[str, Any]:
    return {"access_token": mock_api.hubspot_token, "base_url": mock_api.hubspot_base_url}


@pytest.fixture(scope="module")
def full_read(config) -> EntrypointOutput:
    return read(SourceHubspot(), config, _catalog(*STREAMS))


def _catalog(*streams: str, mode: SyncMode = SyncMode.full_refresh):
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, mode)
    return builder.build()


def _stream_state(stream: str, state: dict[str, Any]) -> list[AirbyteStateMessage]:
    return StateBuilder().with_stream_state(stream, state).build()


def _records(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    return [m.record.data for m in output.records if m.record.stream == stream]


def test_spec_is_a_valid_schema_with_the_token_secret():
    spec = SourceHubspot().spec(logger).connectionSpecification
    Draft7Validator.check_schema(spec)
    assert spec["required"] == ["access_token"]
    assert spec["properties"]["access_token"]["airbyte_secret"] is True
    assert spec["properties"]["page_size"]["maximum"] == 100


def test_check_succeeds_with_the_mock_token(config):
    assert SourceHubspot().check(logger, config).status == Status.SUCCEEDED


def test_check_with_a_wrong_token_fails_without_echoing_it(config):
    wrong = "pat-na1-wrong000-0000-0000-0000-000000000000"
    status = SourceHubspot().check(logger, {**config, "access_token": wrong})
    assert status.status == Status.FAILED
    assert "401" in status.message and wrong not in status.message


def test_discover_builds_the_schemas_from_the_properties_endpoint(config, mock_api):
    catalog = discover(SourceHubspot(), config).catalog.catalog
    streams = {s.name: s for s in catalog.streams}
    assert set(streams) == set(STREAMS)
    for stream in streams.values():
        Draft7Validator.check_schema(stream.json_schema)
        assert stream.source_defined_primary_key == [["id"]]
    for name in CRM_STREAMS:
        stream = streams[name]
        assert SyncMode.incremental in stream.supported_sync_modes
        assert stream.default_cursor_field == ["updatedAt"]
        fields = stream.json_schema["properties"]
        assert {"id", "createdAt", "updatedAt", "archived"} <= set(fields)
        assert "properties_hs_object_id" in fields, name
    assert streams["deals"].json_schema["properties"]["contacts"]["type"] == ["null", "array"]


def test_read_returns_exactly_the_mock_truth(full_read, mock_api):
    assert not full_read.errors, full_read.get_formatted_error_message()
    truth = mock_api.truth(keys=True)
    for stream in STREAMS:
        ids = [r["id"] for r in _records(full_read, stream)]
        assert len(ids) == truth["counts"][stream], stream
        assert len(set(ids)) == len(ids), f"duplicates in {stream}"
        assert set(ids) == set(truth["keys"][stream]), stream


def test_records_are_flattened_with_string_properties(full_read, mock_api):
    for stream in CRM_STREAMS:
        for record in _records(full_read, stream):
            assert "properties" not in record
            props = {k: v for k, v in record.items() if k.startswith("properties_")}
            assert props and all(v is None or isinstance(v, str) for v in props.values())
    contact_ids = {r["id"] for r in _records(full_read, "contacts")}
    company_ids = {r["id"] for r in _records(full_read, "companies")}
    deals = _records(full_read, "deals")
    assert all(isinstance(d["contacts"], list) and isinstance(d["companies"], list) for d in deals)
    assert {c for d in deals for c in d["contacts"]} <= contact_ids
    assert {c for d in deals for c in d["companies"]} <= company_ids
    assert any(d["contacts"] for d in deals) and any(d["companies"] for d in deals)


@pytest.mark.parametrize("stream", CRM_STREAMS)
def test_a_cursor_reads_exactly_the_objects_modified_since_through_the_search(
    stream, config, mock_api, monkeypatch
):
    """With state, the search endpoint; a low result cap forces the hs_object_id restart."""
    cursors = mock_api.truth(keys=True)["cursors"][stream]["rows"]
    since = sorted(updated for _, updated in cursors)[len(cursors) // 3]
    monkeypatch.setattr("source_hubspot.streams.CrmObjects.search_page_size", 5)
    monkeypatch.setattr("source_hubspot.streams.CrmObjects.search_result_cap", 10)
    output = read(
        SourceHubspot(),
        config,
        _catalog(stream, mode=SyncMode.incremental),
        state=_stream_state(stream, {"updatedAt": since}),
    )
    assert not output.errors, output.get_formatted_error_message()
    records = _records(output, stream)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert set(ids) == {key for key, updated in cursors if updated >= since}
    assert output.most_recent_state.stream_state.updatedAt == max(u for _, u in cursors)
    if stream == "deals":  # associations come from the v4 batch read, as on a full read
        assert any(r["contacts"] for r in records) and any(r["companies"] for r in records)


def test_email_events_are_incremental_on_created(config, mock_api):
    first = read(SourceHubspot(), config, _catalog("email_events", mode=SyncMode.incremental))
    created = sorted(r["created"] for r in _records(first, "email_events"))
    state = first.most_recent_state.stream_state.created
    assert state == created[-1]
    again = read(
        SourceHubspot(),
        config,
        _catalog("email_events", mode=SyncMode.incremental),
        state=_stream_state("email_events", {"created": created[len(created) // 2]}),
    )
    assert {r["created"] for r in _records(again, "email_events")} == set(
        created[len(created) // 2 :]
    )


def test_the_token_never_appears_in_any_output(config, mock_api, capfd, caplog):
    """Debug mode logs every request with its headers (to stdout, or to pytest's log capture).

    Every stream, the CRM objects through the search endpoint too (a cursor in the state).
    """
    caplog.set_level("DEBUG")
    state = [
        *_stream_state("contacts", {"updatedAt": "2026-05-01T00:00:00.000Z"}),
        *_stream_state("deals", {"updatedAt": "2026-05-01T00:00:00.000Z"}),
    ]
    catalog = _catalog(*STREAMS, mode=SyncMode.incremental)
    output = read(SourceHubspot(), config, catalog, state=state, debug=True)
    captured = capfd.readouterr()
    messages = "\n".join(
        orjson.dumps(AirbyteMessageSerializer.dump(m)).decode()
        for m in output.get_message_iterator()
    )
    logs = captured.out + captured.err + caplog.text
    assert mock_api.hubspot_token not in messages + logs
    assert "Making outbound API request" in logs


def test_a_200_without_results_fails_the_stream_loudly():
    config = {"access_token": "pat-na1-x", "base_url": "https://mock.test"}
    with requests_mock.Mocker() as mocker:
        mocker.get(
            "https://mock.test/crm/v3/properties/contacts", json={"results": [{"name": "email"}]}
        )
        mocker.get("https://mock.test/crm/v3/objects/contacts", json={"paging": {}})
        output = read(SourceHubspot(), config, _catalog("contacts"))
    assert not output.records
    assert any("no 'results' array" in e.trace.error.message for e in output.errors)
