"""Console entry point ``source-google-sheets``: the Airbyte commands spec, check, discover, read
(run as a console script)."""

import sys

from connector_kit.runtime import launch_source

from source_google_sheets.source import SourceGoogleSheets


def run() -> None:
    launch_source(SourceGoogleSheets(), sys.argv[1:])
