"""The mock Google Sheets API v4: tokens, the spreadsheet and its values, Google's errors, the read
quota, the clock, and the truth about what a correct pipeline makes of the sheet."""

import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipeline.config import (
    DEV_GOOGLE_CLIENT_ID,
    DEV_GOOGLE_CLIENT_SECRET,
    DEV_GOOGLE_REFRESH_TOKEN,
    DEV_GOOGLE_SPREADSHEET_ID,
)
from testbench.mock_apis import google_sheets
from testbench.mock_apis.world import World

TIMEOUT = (5, 30)
SHEET = f"/v4/spreadsheets/{DEV_GOOGLE_SPREADSHEET_ID}"
READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"


def assertion(account: dict[str, Any], key: Any = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": account["client_email"],
        "scope": READONLY,
        "aud": "https://oauth2.googleapis.com/token",
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(body, key or account["private_key"], algorithm="RS256")


def token(url: str, **form: str) -> requests.Response:
    return requests.post(f"{url}/token", data=form, timeout=TIMEOUT)


def bearer(mock_api, account: dict[str, Any] | None = None) -> dict[str, str]:
    account = (
        account
        or requests.get(f"{mock_api.url}/_mock/google/service-account.json", timeout=TIMEOUT).json()
    )
    response = token(
        mock_api.url,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=assertion(account),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def account(mock_api) -> dict[str, Any]:
    return requests.get(f"{mock_api.url}/_mock/google/service-account.json", timeout=TIMEOUT).json()


@pytest.fixture(scope="module")
def headers(mock_api, account) -> dict[str, str]:
    return bearer(mock_api, account)


def test_a_service_account_jwt_signed_with_its_key_gets_a_token(mock_api, account):
    response = token(
        mock_api.url,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=assertion(account),
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert body["access_token"].startswith("ya29.")


def test_a_jwt_signed_with_another_key_is_refused_as_google_does(mock_api, account):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    response = token(
        mock_api.url,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=assertion(account, key=pem),
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid JWT Signature.",
    }
    # A JWT valid for more than an hour is refused too.
    too_long = assertion(account, exp=int(time.time()) + 7200)
    response = token(
        mock_api.url,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=too_long,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_the_refresh_token_grant_checks_client_and_token(mock_api):
    good = {
        "grant_type": "refresh_token",
        "client_id": DEV_GOOGLE_CLIENT_ID,
        "client_secret": DEV_GOOGLE_CLIENT_SECRET,
        "refresh_token": DEV_GOOGLE_REFRESH_TOKEN,
    }
    response = token(mock_api.url, **good)
    assert response.status_code == 200 and READONLY in response.json()["scope"].split()
    assert token(mock_api.url, **{**good, "client_secret": "wrong"}).status_code == 401
    refused = token(mock_api.url, **{**good, "refresh_token": "1//revoked"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_spreadsheet_metadata_lists_the_grid_tabs(mock_api, headers):
    body = requests.get(
        f"{mock_api.url}{SHEET}", params={"includeGridData": "false"}, headers=headers,
        timeout=TIMEOUT,
    ).json()  # fmt: skip
    assert body["spreadsheetId"] == DEV_GOOGLE_SPREADSHEET_ID
    titles = [sheet["properties"]["title"] for sheet in body["sheets"]]
    assert titles == ["Campaign spend", "Pipeline targets"]
    for sheet in body["sheets"]:
        assert sheet["properties"]["sheetType"] == "GRID"
        assert "data" not in sheet
    # the title row above the header is merged across the columns
    assert body["sheets"][0]["merges"][0]["endRowIndex"] == 1


def test_grid_data_of_a_range_gives_the_header_as_formatted_values(mock_api, headers):
    body = requests.get(
        f"{mock_api.url}{SHEET}",
        params={"includeGridData": "true", "ranges": "'Campaign spend'!1:2"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()
    assert len(body["sheets"]) == 1
    rows = body["sheets"][0]["data"][0]["rowData"]
    title, header = ([cell.get("formattedValue") for cell in row["values"]] for row in rows)
    assert title == [google_sheets.TITLE_ROW]  # a merged cell: only its first cell has a value
    assert header == list(google_sheets.SPEND_HEADER)


def test_values_batch_get_by_rows_and_by_columns(mock_api, headers):
    def get(dimension: str) -> dict[str, Any]:
        return requests.get(
            f"{mock_api.url}{SHEET}/values:batchGet",
            params={"ranges": "Pipeline targets!A1:D3", "majorDimension": dimension},
            headers=headers,
            timeout=TIMEOUT,
        ).json()

    rows = get("ROWS")["valueRanges"][0]
    assert rows["range"] == "'Pipeline targets'!A1:D3"
    assert rows["values"][0] == list(google_sheets.TARGETS_HEADER)
    assert len(rows["values"]) == 3
    columns = get("COLUMNS")["valueRanges"][0]["values"]
    assert columns[0][0] == "Audience" and len(columns) == 4
    assert [column[1] for column in columns] == rows["values"][1]


def test_blank_rows_come_back_empty_and_trailing_ones_are_left_out(mock_api, headers):
    body = requests.get(
        f"{mock_api.url}{SHEET}/values:batchGet",
        params={"ranges": "'Campaign spend'!A1:G10000"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()
    values = body["valueRanges"][0]["values"]
    assert [] in values, "a blank row in the middle is an empty list"
    assert values[-1], "no trailing empty rows"
    truth = mock_api.truth()["google_sheets"]["tabs"]["Campaign spend"]
    assert len(values) == 2 + truth["data_rows"] + truth["blank_rows"]


@pytest.mark.parametrize(
    ("path", "params", "code", "status"),
    [
        (SHEET + "/values:batchGet", {"ranges": "No such tab!A1:B2"}, 400, "INVALID_ARGUMENT"),
        (SHEET + "/values:batchGet", {}, 400, "INVALID_ARGUMENT"),
        ("/v4/spreadsheets/1NotOurs", {}, 404, "NOT_FOUND"),
    ],
)
def test_errors_have_googles_body(mock_api, headers, path, params, code, status):
    response = requests.get(
        f"{mock_api.url}{path}", params=params, headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == code
    error = response.json()["error"]
    assert error["code"] == code and error["status"] == status and error["message"]


def test_no_token_is_401_and_a_token_without_the_scope_is_403(mock_api, account):
    response = requests.get(f"{mock_api.url}{SHEET}", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    granted = token(
        mock_api.url,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=assertion(account, scope="https://www.googleapis.com/auth/calendar"),
    ).json()
    response = requests.get(
        f"{mock_api.url}{SHEET}",
        headers={"Authorization": f"Bearer {granted['access_token']}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


def test_reads_past_the_quota_get_429_resource_exhausted(mock_api_server):
    with mock_api_server(7, 100, "--google-read-quota", "3") as api:
        headers = bearer(api)
        codes = [
            requests.get(f"{api.url}{SHEET}", headers=headers, timeout=TIMEOUT).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        response = requests.get(f"{api.url}{SHEET}", headers=headers, timeout=TIMEOUT)
        assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert "Retry-After" not in response.headers  # as Google: clients back off


def test_the_clock_edits_estimates_and_appends_rows():
    before = google_sheets.tabs(World(3, 100, 0))[0]
    later = google_sheets.tabs(World(3, 100, 15))[0]
    assert len(later.rows) > len(before.rows), "new campaigns' rows are appended"
    edited = [
        (old.cells, new.cells)
        for old, new in zip(before.rows, later.rows, strict=False)
        if old.cells != new.cells
    ]
    assert edited, "an estimate became an invoiced amount"
    assert all(old[-1] == "estimate" and new[-1] == "invoiced" for old, new in edited)
    # the same world twice is the same sheet
    assert google_sheets.tabs(World(3, 100, 15)) == google_sheets.tabs(World(3, 100, 15))


def test_the_truth_counts_the_sheet_and_its_mess():
    world = World(5, 200, 0)
    truth = google_sheets.spend_truth(world, [])
    assert truth["quarantine_reasons"] == {
        "repeated header row": 1,
        "no matching campaign": 1,
        "unparseable amount": 2,
        "duplicate row": 1,
    }
    spend = google_sheets.tabs(world)[0]
    typed = {row.cells[3] for row in spend.rows if len(row.cells) > 3}
    assert any(amount.startswith("$") for amount in typed)
    assert any(amount.endswith(" USD") for amount in typed)
    assert any(amount.startswith(("€", "£")) for amount in typed)
    assert any("," in amount and amount[-3] == "," for amount in typed), "a decimal comma"
