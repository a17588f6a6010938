"""Console entry point ``source-hubspot``: the Airbyte commands spec, check, discover, read."""

import sys

from connector_kit.runtime import launch_source

from source_hubspot.source import SourceHubspot


def run() -> None:
    launch_source(SourceHubspot(), sys.argv[1:])
