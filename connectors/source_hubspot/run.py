"""Console entry point ``source-hubspot``: the Airbyte commands spec, check, discover, read."""

import sys

from airbyte_cdk.entrypoint import launch

from source_hubspot.source import SourceHubspot


def run() -> None:
    launch(SourceHubspot(), sys.argv[1:])
