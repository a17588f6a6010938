"""Airbyte destination that loads records into typed DuckDB tables, in batches (see README.md)."""

from destination_duckdb.destination import DestinationDuckdb

__all__ = ["DestinationDuckdb"]
