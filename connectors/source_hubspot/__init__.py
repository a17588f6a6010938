"""Airbyte source for the HubSpot CRM API v3 (Python ``HttpStream``s, see README.md)."""

from source_hubspot.source import SourceHubspot

__all__ = ["SourceHubspot"]
