"""Console entry point ``destination-duckdb``: the Airbyte commands spec, check, write."""

import sys

from destination_duckdb.destination import DestinationDuckdb


def run() -> None:
    DestinationDuckdb().run(sys.argv[1:])
