"""Console script entry point (placeholder until the destination is built)."""

import sys


def run() -> None:
    sys.exit("destination-lake is not built yet")
