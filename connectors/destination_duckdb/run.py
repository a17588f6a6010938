"""Console entry point ``destination-duckdb``: the Airbyte commands spec, check, write."""

import sys

from connector_kit.destination_launch import launch_destination

from destination_duckdb.destination import DestinationDuckdb, read_messages


def run() -> None:
    launch_destination(DestinationDuckdb(), sys.argv[1:], read_messages)
