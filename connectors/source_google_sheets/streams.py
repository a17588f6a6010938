"""One stream per tab: the tab's rows below its header, read with ``values:batchGet``.

A Python ``HttpStream`` like the other sources (see README.md): the columns come from the sheet
itself, found when the source lists its streams, so the schema is built there, not in a manifest.
"""

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from connector_kit.http import ApiStream, parse_page
from connector_kit.schemas import INTEGER, STRING, object_schema

from source_google_sheets.auth import GoogleCredentials
from source_google_sheets.sheets import ROW_NUMBER, TabLayout, quoted


class SheetTab(ApiStream):
    """Rows ``header + 1 .. rowCount`` in batches of ``page_size`` rows; blank rows skipped.

    Every record carries ``row_number``, the row's number in the tab (its primary key: a sheet has
    no other). Cells are the sheet's formatted strings, mapped to columns by position; a row
    shorter than the header (Google leaves trailing empty cells out) has nulls for the rest.
    """

    primary_key = ROW_NUMBER

    def __init__(
        self,
        base_url: str,
        spreadsheet: str,
        tab: TabLayout,
        authenticator: GoogleCredentials,
        page_size: int,
    ) -> None:
        self.tab = tab
        self._spreadsheet = spreadsheet
        self.json_schema = object_schema(
            {ROW_NUMBER: INTEGER, **{name: STRING for _, name in tab.columns}}
        )
        super().__init__(base_url, authenticator, page_size)

    @property
    def name(self) -> str:
        return self.tab.stream

    def path(self, **_: Any) -> str:
        return f"v4/spreadsheets/{self._spreadsheet}/values:batchGet"

    def _first_row(self, next_page_token: Mapping[str, Any] | None) -> int:
        return int((next_page_token or {}).get("first_row") or self.tab.header_row + 1)

    def request_params(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> MutableMapping[str, Any]:
        first = self._first_row(next_page_token)
        last = first + self.page_size - 1
        return {"ranges": f"{quoted(self.tab.title)}!{first}:{last}", "majorDimension": "ROWS"}

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        following = self._requested_first(response) + self.page_size
        return {"first_row": following} if following <= self.tab.row_count else None

    def _requested_first(self, response: requests.Response) -> int:
        """The first row the request asked for (from its ``ranges``, ``'Tab'!101:200``)."""
        query = dict(parse_qsl(urlsplit(response.request.url or "").query))
        return int(query["ranges"].rpartition("!")[2].partition(":")[0])

    def parse_response(self, response: requests.Response, **_: Any) -> Iterable[Mapping[str, Any]]:
        value_ranges, _body = parse_page(response, "valueRanges", "Google Sheets")
        if len(value_ranges) != 1 or not isinstance(value_ranges[0], dict):
            raise ValueError(f"Google Sheets answered {len(value_ranges)} ranges for one")
        first = self._requested_first(response)
        columns = self.tab.columns
        for offset, cells in enumerate(value_ranges[0].get("values") or []):
            if not any(str(cell).strip() for cell in cells):
                continue  # a blank row is not a record
            record: dict[str, Any] = {ROW_NUMBER: first + offset}
            for position, name in columns:
                record[name] = cells[position] if position < len(cells) else None
            yield record
