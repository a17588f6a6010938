"""destination-lake: lands Airbyte streams as immutable files in the lake's bronze layer."""

from destination_lake.destination import DestinationLake

__all__ = ["DestinationLake"]
