"""The spreadsheet's layout: its grid tabs, each tab's header row and the columns it names.

The header row is the first row with at least two non-empty cells, so a merged title row above the
header (one cell with a value) is skipped. Columns run from the first header cell to the first
empty one, as in Airbyte's published connector; a repeated name gets its cell's position appended
(``Amount_D2``).
"""

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from connector_kit.http import MAX_RETRIES, REQUEST_TIMEOUT

from source_google_sheets.auth import GoogleCredentials, config_error

DEFAULT_BASE_URL = "https://sheets.googleapis.com"
HEADER_SCAN_ROWS = 10  # the header must be within the first rows of a tab
ROW_NUMBER = "row_number"  # the column every stream adds: the row's number in its tab
_ID_IN_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_COLUMN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class TabLayout:
    title: str  # the tab's title, as in the spreadsheet
    stream: str  # the stream's name
    header_row: int  # 1-based
    row_count: int  # rows in the grid (most of them may be empty)
    columns: tuple[tuple[int, str], ...]  # (0-based cell position, column name)


def spreadsheet_id(value: str) -> str:
    """The id, from the id itself or from the spreadsheet's URL."""
    found = _ID_IN_URL.search(value or "")
    spreadsheet = found.group(1) if found else (value or "").strip()
    if not spreadsheet or not re.fullmatch(r"[A-Za-z0-9_-]+", spreadsheet):
        raise config_error(
            "Config 'spreadsheet_id' must be a spreadsheet id or its URL "
            "(https://docs.google.com/spreadsheets/d/<id>/edit)."
        )
    return spreadsheet


def quoted(title: str) -> str:
    """A tab title as an A1 range prefix: ``'Campaign spend'``."""
    return "'" + title.replace("'", "''") + "'"


def snake_case(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_") or "column"


class SheetsClient:
    """The few metadata calls: with the connector's timeouts, bounded retries on 429 and 5xx."""

    def __init__(self, base_url: str, spreadsheet: str, auth: GoogleCredentials) -> None:
        self.url = f"{base_url.rstrip('/')}/v4/spreadsheets/{spreadsheet}"
        self.auth = auth

    def get(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = requests.get(
                    self.url, params=params, auth=self.auth, timeout=REQUEST_TIMEOUT
                )
            except requests.RequestException as error:
                if attempt == MAX_RETRIES:
                    raise AirbyteTracedException(
                        message=f"Could not reach Google Sheets at {self.url}: "
                        f"{type(error).__name__}.",
                        failure_type=FailureType.transient_error,
                    ) from None
                time.sleep(_backoff(attempt))
                continue
            if response.status_code == 200:
                return orjson.loads(response.content)
            if response.status_code in (429, 500, 502, 503, 504) and attempt < MAX_RETRIES:
                time.sleep(_backoff(attempt))  # Google sends no Retry-After
                continue
            raise api_error(response)
        raise AssertionError("unreachable")


def _backoff(attempt: int) -> float:
    """Google's advice: exponential backoff, at most 64 s a wait. 2, 4, 8, 16, 32 s: together more
    than the minute after which the per-minute read quota is refilled."""
    return float(min(2 ** (attempt + 1), 64))


def api_error(response: requests.Response) -> AirbyteTracedException:
    """Google's error body ``{"error": {"code", "message", "status"}}`` as one clear line."""
    try:
        error = orjson.loads(response.content).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        error = {}
    status = error.get("status") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    hints = {
        403: " Share the spreadsheet with the service account (or user), with read access.",
        404: " Check the config's 'spreadsheet_id'.",
    }
    failure = (
        FailureType.config_error if response.status_code in hints else FailureType.system_error
    )
    return AirbyteTracedException(
        message=f"Google Sheets answered HTTP {response.status_code} {status or ''}: "
        f"{message or 'no detail'}.{hints.get(response.status_code, '')}",
        failure_type=failure,
    )


def layout(client: SheetsClient, names_conversion: bool) -> list[TabLayout]:
    """Every grid tab that has a header row: two requests for the whole spreadsheet."""
    metadata = client.get([("includeGridData", "false")])
    grids = [
        sheet["properties"]
        for sheet in metadata.get("sheets") or []
        if sheet.get("properties", {}).get("sheetType", "GRID") == "GRID"
        and sheet["properties"].get("gridProperties", {}).get("rowCount", 0) > 0
    ]
    if not grids:
        return []
    ranges = [("ranges", f"{quoted(grid['title'])}!1:{HEADER_SCAN_ROWS}") for grid in grids]
    heads = client.get([("includeGridData", "true"), *ranges])
    by_title = {sheet["properties"]["title"]: sheet for sheet in heads.get("sheets") or []}
    tabs = []
    for grid in grids:
        data = (by_title.get(grid["title"], {}).get("data") or [{}])[0]
        rows = [
            [cell.get("formattedValue") or "" for cell in row.get("values") or []]
            for row in data.get("rowData") or []
        ]
        found = _header(rows)
        if found is None:
            continue  # no header: nothing to read
        header_row, header = found
        name = snake_case(grid["title"]) if names_conversion else grid["title"]
        tabs.append(
            TabLayout(
                title=grid["title"],
                stream=name,
                header_row=header_row,
                row_count=int(grid["gridProperties"]["rowCount"]),
                columns=_columns(header, header_row, names_conversion),
            )
        )
    return tabs


def _header(rows: list[list[str]]) -> tuple[int, list[str]] | None:
    for number, cells in enumerate(rows, start=1):
        if sum(1 for cell in cells if cell.strip()) >= 2:
            return number, cells
    return None


def _columns(
    header: list[str], header_row: int, names_conversion: bool
) -> tuple[tuple[int, str], ...]:
    columns: list[tuple[int, str]] = []
    seen: set[str] = set()
    for position, cell in enumerate(header):
        if not cell.strip():
            break
        name = snake_case(cell) if names_conversion else cell.strip()
        if name in seen or name == ROW_NUMBER:
            letter = _COLUMN_LETTERS[position % 26] * (position // 26 + 1)
            name = f"{name}_{letter}{header_row}"
        seen.add(name)
        columns.append((position, name))
    return tuple(columns)


def stream_config(config: Mapping[str, Any]) -> tuple[SheetsClient, bool, int]:
    """(the metadata client, names_conversion, batch_size) from the connector's config."""
    if not isinstance(config.get("credentials"), Mapping):
        raise config_error("Config 'credentials' is missing: give a service account or a client.")
    auth = GoogleCredentials(config["credentials"], config.get("token_uri") or None)
    client = SheetsClient(
        config.get("base_url") or DEFAULT_BASE_URL,
        spreadsheet_id(str(config.get("spreadsheet_id") or "")),
        auth,
    )
    return client, bool(config.get("names_conversion")), int(config.get("batch_size") or 100_000)
