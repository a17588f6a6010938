"""SourceGoogleSheets: config handling, the connection check and one stream per tab."""

import logging
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_google_sheets.sheets import layout, spreadsheet_id, stream_config
from source_google_sheets.streams import SheetTab


class SourceGoogleSheets(AbstractSource):
    """The tabs of one spreadsheet, full refresh (a sheet has no cursor), through the Google
    Sheets API v4 with a service account or an OAuth client."""

    def check_connection(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> tuple[bool, str | None]:
        """Get a token and read the spreadsheet's layout: proves the credentials, the sharing
        and the id."""
        try:
            client, names_conversion, _ = stream_config(config)
            tabs = layout(client, names_conversion)
        except AirbyteTracedException as error:
            return False, error.message
        if not tabs:
            return False, "The spreadsheet has no tab with a header row to read."
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        client, names_conversion, batch_size = stream_config(config)
        spreadsheet = spreadsheet_id(str(config["spreadsheet_id"]))
        base_url = client.url.partition("/v4/spreadsheets/")[0]
        return [
            SheetTab(base_url, spreadsheet, tab, client.auth, batch_size)
            for tab in layout(client, names_conversion)
        ]
