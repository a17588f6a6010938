"""The Google Sheets API v4 routes, with Google's OAuth token endpoint, error bodies and read quota.

* ``POST /token`` (also ``/oauth2/v4/token``): a service account's signed JWT (RS256, verified
  against the mock's service-account public key; ``iss``, ``aud``, ``exp`` at most an hour after
  ``iat``) or a refresh token with its OAuth client -> ``{access_token, expires_in, token_type}``.
  Errors as Google's token endpoint sends them: ``{"error": "invalid_grant", "error_description"}``.
* ``GET /v4/spreadsheets/{id}`` (``includeGridData``, ``ranges``) and
  ``GET /v4/spreadsheets/{id}/values:batchGet`` (``ranges``, ``majorDimension``) with
  ``Authorization: Bearer``; errors ``{"error": {"code", "message", "status"}}``.
* The read quota: ``read_quota`` requests per minute per user (the service account or OAuth
  client), then 429 ``RESOURCE_EXHAUSTED``, without ``Retry-After`` (as Google: clients back off).
* ``GET /_mock/google/service-account.json``: not a real path; the key file of the mock's service
  account, as Google's console hands one out (a fresh key pair per server start).
"""

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testbench.mock_apis import credentials
from testbench.mock_apis.google_sheets import SPEND_TAB, SPREADSHEET_TITLE, Tab, tabs
from testbench.mock_apis.rate_limits import RollingWindow
from testbench.mock_apis.responses import JSONResponse

DEFAULT_GOOGLE_READ_QUOTA = 60  # read requests per minute per user, Google's default
QUOTA_WINDOW_SECONDS = 60.0
TOKEN_LIFETIME_SECONDS = 3599
GOOGLE_TOKEN_URIS = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
)
SHORT_LIVED = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
READ_SCOPES = {
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/drive",
}
# What the refresh token was granted for when the user consented (read only).
OAUTH_CLIENT_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/spreadsheets.readonly",
        "https://www.googleapis.com/auth/drive.readonly",
    }
)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SERVICE_ACCOUNT_EMAIL = "sheets-reader@campaign-pipeline-mock.iam.gserviceaccount.com"
PROJECT_ID = "campaign-pipeline-mock"
COLUMN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class GoogleAuth:
    """The mock's Google identities, the access tokens it issued and each user's read quota."""

    read_quota: int = DEFAULT_GOOGLE_READ_QUOTA
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    key_id: str = field(default_factory=lambda: secrets.token_hex(20))
    tokens: dict[str, tuple[str, frozenset[str], float]] = field(default_factory=dict)
    quotas: dict[str, RollingWindow] = field(default_factory=dict)

    def issue(self, user: str, scopes: frozenset[str]) -> dict[str, Any]:
        token = "ya29.mock-" + secrets.token_urlsafe(32)
        self.tokens[token] = (user, scopes, time.monotonic() + TOKEN_LIFETIME_SECONDS)
        return {
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    def service_account_info(self, token_uri: str) -> dict[str, str]:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": self.key_id,
            "private_key": pem,
            "client_email": SERVICE_ACCOUNT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }


def google_error(code: int, status: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, code)


def _token_error(code: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, code)


async def token(request: Request) -> Response:
    form = await request.form()
    auth: GoogleAuth = request.app.state.google
    grant = form.get("grant_type")
    if grant == JWT_BEARER:
        try:
            claims = jwt.decode(
                str(form.get("assertion") or ""),
                auth.key.public_key(),
                algorithms=["RS256"],
                # the audience is checked below: this server answers under several host names
                issuer=SERVICE_ACCOUNT_EMAIL,
                options={"require": ["iss", "aud", "iat", "exp"], "verify_aud": False},
            )
        except jwt.InvalidSignatureError:
            return _token_error(400, "invalid_grant", "Invalid JWT Signature.")
        except jwt.ExpiredSignatureError:
            return _token_error(400, "invalid_grant", SHORT_LIVED)
        except jwt.InvalidTokenError as error:
            return _token_error(400, "invalid_grant", f"Invalid JWT: {type(error).__name__}.")
        if not _is_token_uri(claims["aud"], request):
            return _token_error(400, "invalid_grant", "Invalid JWT: InvalidAudienceError.")
        if int(claims["exp"]) - int(claims["iat"]) > 3600:
            return _token_error(400, "invalid_grant", SHORT_LIVED)
        scopes = frozenset(str(claims.get("scope") or "").split())
        if not scopes:
            return _token_error(
                400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        return JSONResponse(auth.issue(SERVICE_ACCOUNT_EMAIL, scopes))
    if grant == "refresh_token":
        client_id, client_secret, refresh = credentials.google_oauth_client()
        if form.get("client_id") != client_id or form.get("client_secret") != client_secret:
            return _token_error(401, "invalid_client", "The OAuth client was not found.")
        if form.get("refresh_token") != refresh:
            return _token_error(400, "invalid_grant", "Bad Request")
        return JSONResponse(auth.issue(client_id, OAUTH_CLIENT_SCOPES))
    return _token_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant or ''}")


def _is_token_uri(audience: Any, request: Request) -> bool:
    """Google's token URI, or this endpoint under any host name (localhost, 127.0.0.1, ...)."""
    audiences = audience if isinstance(audience, list) else [audience]
    return any(
        isinstance(uri, str)
        and (uri in GOOGLE_TOKEN_URIS or urlsplit(uri).path == request.url.path)
        for uri in audiences
    )


def service_account_file(request: Request) -> Response:
    """Not a real API path: the mock service account's key file (its token_uri is this server)."""
    token_uri = f"{str(request.base_url).rstrip('/')}/token"
    return JSONResponse(request.app.state.google.service_account_info(token_uri))


def _authorize(request: Request) -> Response | None:
    """None if the request may read; else Google's 401, 403 or 429."""
    auth: GoogleAuth = request.app.state.google
    header = request.headers.get("authorization", "")
    granted = auth.tokens.get(header.removeprefix("Bearer ").strip()) if header else None
    if granted is None or granted[2] < time.monotonic():
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
        )
    user, scopes, _ = granted
    if not scopes & READ_SCOPES:
        return google_error(
            403, "PERMISSION_DENIED", "Request had insufficient authentication scopes."
        )
    quota = auth.quotas.setdefault(user, RollingWindow(auth.read_quota, QUOTA_WINDOW_SECONDS))
    if not quota.acquire(time.monotonic()):
        return google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
            "per user' of service 'sheets.googleapis.com' for consumer "
            "'project_number:100000000001'.",
        )
    if request.path_params["spreadsheet_id"] != credentials.google_spreadsheet_id():
        return google_error(404, "NOT_FOUND", "Requested entity was not found.")
    return None


class BadRange(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    tab: Tab
    first_row: int  # 1-based, inclusive
    last_row: int
    first_column: int
    last_column: int

    @property
    def a1(self) -> str:
        title = self.tab.title.replace("'", "''")
        return (
            f"'{title}'!{COLUMN_LETTERS[self.first_column - 1]}{self.first_row}:"
            f"{COLUMN_LETTERS[self.last_column - 1]}{self.last_row}"
        )

    def rows(self) -> list[list[str]]:
        """The window's cells as the values API returns them (trailing empties left out)."""
        rows = []
        for row in self.tab.rows[self.first_row - 1 : self.last_row]:
            cells = list(row.cells[self.first_column - 1 : self.last_column])
            while cells and cells[-1] == "":
                cells.pop()
            rows.append(cells)
        while rows and not rows[-1]:
            rows.pop()
        return rows


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")


def parse_range(text: str, sheets: tuple[Tab, ...]) -> Window:
    """An A1 range (``'Campaign spend'!A2:G``, ``Pipeline targets!1:1``, a tab's title alone)."""
    by_title = {tab.title: tab for tab in sheets}
    if "!" in text:
        title, _, cells = text.rpartition("!")
        if len(title) > 1 and title[0] == title[-1] == "'":
            title = title[1:-1].replace("''", "'")
    elif text in by_title:
        title, cells = text, ""
    else:
        title, cells = sheets[0].title, text
    tab = by_title.get(title)
    if tab is None:
        raise BadRange(text)
    start, _, end = cells.partition(":")
    first = _CELL.match(start)
    last = _CELL.match(end if end else start)
    if first is None or last is None:
        raise BadRange(text)
    first_column = _column(first.group(1)) or 1
    first_row = int(first.group(2) or 1)
    last_column = _column(last.group(1)) or tab.column_count
    last_row = int(last.group(2)) if last.group(2) else tab.row_count
    if not cells:
        first_column, first_row, last_column, last_row = 1, 1, tab.column_count, tab.row_count
    last_column, last_row = min(last_column, tab.column_count), min(last_row, tab.row_count)
    if first_row < 1 or first_row > last_row or first_column > last_column:
        raise BadRange(text)
    return Window(tab, first_row, last_row, first_column, last_column)


def _column(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + COLUMN_LETTERS.index(letter) + 1
    return number


def _windows(request: Request, sheets: tuple[Tab, ...]) -> list[Window] | Response:
    try:
        return [parse_range(text, sheets) for text in request.query_params.getlist("ranges")]
    except BadRange as error:
        return google_error(400, "INVALID_ARGUMENT", f"Unable to parse range: {error}")


def _sheet_properties(tab: Tab) -> dict[str, Any]:
    return {
        "sheetId": tab.sheet_id,
        "title": tab.title,
        "index": tab.sheet_id,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": tab.row_count, "columnCount": tab.column_count},
    }


def _grid_data(window: Window) -> dict[str, Any]:
    return {
        "startRow": window.first_row - 1,
        "startColumn": window.first_column - 1,
        "rowData": [
            {
                "values": [
                    {
                        "userEnteredValue": {"stringValue": cell},
                        "effectiveValue": {"stringValue": cell},
                        "formattedValue": cell,
                    }
                    if cell
                    else {}
                    for cell in cells
                ]
            }
            for cells in window.rows()
        ],
    }


def _read(request: Request) -> tuple[tuple[Tab, ...], list[Window]] | Response:
    """The tabs and the requested ranges of an authorized read; else Google's error."""
    refused = _authorize(request)
    if refused is not None:
        return refused
    sheets = tabs(request.app.state.world)
    windows = _windows(request, sheets)
    if isinstance(windows, Response):
        return windows
    return sheets, windows


def spreadsheet(request: Request) -> Response:
    read = _read(request)
    if isinstance(read, Response):
        return read
    sheets, windows = read
    with_data = request.query_params.get("includeGridData", "false").lower() == "true"
    shown = [tab for tab in sheets if not windows or any(w.tab is tab for w in windows)]
    rendered = []
    for tab in shown:
        sheet: dict[str, Any] = {"properties": _sheet_properties(tab)}
        if tab.title == SPEND_TAB:  # the title row above the header is merged across
            sheet["merges"] = [
                {
                    "sheetId": tab.sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": 7,
                }
            ]
        if with_data:
            mine = [w for w in windows if w.tab is tab] or [parse_range(tab.title, sheets)]
            sheet["data"] = [_grid_data(window) for window in mine]
        rendered.append(sheet)
    spreadsheet_id = request.path_params["spreadsheet_id"]
    return JSONResponse(
        {
            "spreadsheetId": spreadsheet_id,
            "properties": {
                "title": SPREADSHEET_TITLE,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
            },
            "sheets": rendered,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit",
        }
    )


def values_batch_get(request: Request) -> Response:
    read = _read(request)
    if isinstance(read, Response):
        return read
    _, windows = read
    if not windows:
        return google_error(400, "INVALID_ARGUMENT", "Must specify at least one range.")
    dimension = request.query_params.get("majorDimension", "ROWS").upper()
    if dimension not in ("ROWS", "COLUMNS"):
        return google_error(
            400,
            "INVALID_ARGUMENT",
            f"Invalid value at 'major_dimension' ({dimension}), "
            'expected one of "ROWS", "COLUMNS".',
        )
    value_ranges = []
    for window in windows:
        rows = window.rows()
        value_range: dict[str, Any] = {"range": window.a1, "majorDimension": dimension}
        if dimension == "COLUMNS":
            rows = _columns(rows)
        if rows:  # Google leaves "values" out of an empty range
            value_range["values"] = rows
        value_ranges.append(value_range)
    return JSONResponse(
        {"spreadsheetId": request.path_params["spreadsheet_id"], "valueRanges": value_ranges}
    )


def _columns(rows: list[list[str]]) -> list[list[str]]:
    width = max((len(row) for row in rows), default=0)
    columns = []
    for index in range(width):
        column = [row[index] if index < len(row) else "" for row in rows]
        while column and column[-1] == "":
            column.pop()
        columns.append(column)
    return columns


def routes() -> list[Route]:
    return [
        Route("/token", token, methods=["POST"]),
        Route("/oauth2/v4/token", token, methods=["POST"]),
        Route("/_mock/google/service-account.json", service_account_file),
        Route("/v4/spreadsheets/{spreadsheet_id}", spreadsheet),
        Route("/v4/spreadsheets/{spreadsheet_id}/values:batchGet", values_batch_get),
    ]
