"""source-google-sheets against the mock: both credential types, one stream per tab with the
header's columns, every typed row read once, and errors that say what to fix."""

import json

import pytest
from airbyte_cdk.models import Status, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from source_google_sheets import SourceGoogleSheets
from source_google_sheets.sheets import snake_case, spreadsheet_id


def catalog_of(*streams: str) -> object:
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, SyncMode.full_refresh)
    return builder.build()


@pytest.mark.parametrize("service_account", [True, False], ids=["service-account", "oauth"])
def test_check_succeeds_with_both_credential_types(mock_api, service_account):
    config = mock_api.google_sheets_config(service_account)
    status = SourceGoogleSheets().check(None, config)
    assert status.status == Status.SUCCEEDED, status.message


def test_discover_gives_a_stream_per_tab_with_the_header_as_columns(mock_api):
    output = discover(SourceGoogleSheets(), mock_api.google_sheets_config())
    streams = {stream.name: stream for stream in output.catalog.catalog.streams}
    assert set(streams) == {"campaign_spend", "pipeline_targets"}
    spend = streams["campaign_spend"]
    assert list(spend.json_schema["properties"]) == [
        "row_number", "campaign", "channel", "month", "amount", "currency", "owner", "notes",
    ]  # fmt: skip
    assert spend.source_defined_primary_key == [["row_number"]]
    assert [mode.value for mode in spend.supported_sync_modes] == ["full_refresh"]


def test_read_gives_every_typed_row_once_and_skips_blank_rows(mock_api):
    config = mock_api.google_sheets_config(service_account=False)
    source = SourceGoogleSheets()
    output = read(source, config, catalog_of("campaign_spend", "pipeline_targets"))
    assert not output.errors, output.errors
    records: dict[str, list[dict]] = {}
    for message in output.records:
        records.setdefault(message.record.stream, []).append(message.record.data)
    tabs = mock_api.truth()["google_sheets"]["tabs"]
    assert len(records["campaign_spend"]) == tabs["Campaign spend"]["data_rows"]
    assert len(records["pipeline_targets"]) == tabs["Pipeline targets"]["data_rows"]
    spend = records["campaign_spend"]
    numbers = [row["row_number"] for row in spend]
    assert numbers == sorted(set(numbers)) and numbers[0] == 3, "below the title and header rows"
    assert all(any(value for key, value in row.items() if key != "row_number") for row in spend)
    assert any(row["campaign"] == "Campaign" for row in spend), "the header typed again is data"


def test_wrong_credentials_fail_check_with_googles_reason_and_no_secret(mock_api):
    config = mock_api.google_sheets_config(service_account=False)
    config["credentials"]["refresh_token"] = "1//revoked-token-value"
    status = SourceGoogleSheets().check(None, config)
    assert status.status == Status.FAILED
    assert "invalid_grant" in status.message or "Bad Request" in status.message
    assert "revoked-token-value" not in status.message


def test_an_unknown_spreadsheet_fails_check_naming_the_field(mock_api):
    config = {**mock_api.google_sheets_config(), "spreadsheet_id": "1SomeoneElsesSheet"}
    status = SourceGoogleSheets().check(None, config)
    assert status.status == Status.FAILED
    assert "404" in status.message and "spreadsheet_id" in status.message


def test_a_key_file_that_is_not_json_fails_with_one_clear_line(mock_api):
    config = mock_api.google_sheets_config()
    config["credentials"]["service_account_info"] = "not json"
    status = SourceGoogleSheets().check(None, config)
    assert status.status == Status.FAILED
    assert "service_account_info" in status.message and "\n" not in status.message


def test_spec_marks_every_credential_secret():
    spec = SourceGoogleSheets().spec(None).connectionSpecification
    options = spec["properties"]["credentials"]["oneOf"]
    secret_fields = {
        name
        for option in options
        for name, field in option["properties"].items()
        if field.get("airbyte_secret")
    }
    assert secret_fields == {"service_account_info", "client_id", "client_secret", "refresh_token"}
    assert spec["properties"]["base_url"]["default"] == "https://sheets.googleapis.com"


def test_the_id_comes_from_an_id_or_a_url_and_names_become_snake_case():
    url = "https://docs.google.com/spreadsheets/d/1AbC-d_9/edit#gid=0"
    assert spreadsheet_id(url) == "1AbC-d_9" == spreadsheet_id("1AbC-d_9")
    assert snake_case("Spend (net)") == "spend_net"
    assert snake_case("Target pipeline (USD)") == "target_pipeline_usd"
    assert json.dumps(snake_case("Campaign spend")) == '"campaign_spend"'
