"""Console entry point ``destination-lake``: the Airbyte commands spec, check, write."""

import sys

from destination_lake.destination import DestinationLake


def run() -> None:
    DestinationLake().run(sys.argv[1:])
