"""SourceHubspot: the connection check and the list of streams."""

import logging
from collections.abc import Mapping
from typing import Any

import requests
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator
from connector_kit.http import REQUEST_TIMEOUT

from source_hubspot.streams import Companies, Contacts, DealPipelines, Deals, EmailEvents, Owners

DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_PAGE_SIZE = 100


class SourceHubspot(AbstractSource):
    """Contacts, companies, deals (with their associations), owners, deal pipelines and marketing
    email events from the HubSpot APIs."""

    def check_connection(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> tuple[bool, str | None]:
        """Read one contact: proves the URL, the token and the contacts scope in one call."""
        base_url = (config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        try:
            response = requests.get(
                f"{base_url}/crm/v3/objects/contacts",
                params={"limit": 1},
                headers={"Authorization": f"Bearer {config['access_token']}"},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException as error:
            return False, f"Could not reach HubSpot at {base_url}: {type(error).__name__}."
        if response.status_code != 200:
            return False, f"HubSpot answered HTTP {response.status_code}: {_category(response)}."
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        kwargs = {
            "base_url": config.get("base_url") or DEFAULT_BASE_URL,
            # A Bearer header: the token never goes into a URL that an error message could quote.
            "authenticator": TokenAuthenticator(token=config["access_token"]),
            "page_size": int(config.get("page_size") or DEFAULT_PAGE_SIZE),
        }
        return [
            Contacts(**kwargs),
            Companies(**kwargs),
            Deals(**kwargs),
            Owners(**kwargs),
            DealPipelines(**kwargs),
            EmailEvents(**kwargs),
        ]


def _category(response: requests.Response) -> str:
    """HubSpot's error category (such as ``INVALID_AUTHENTICATION``); it never holds the token."""
    try:
        return str(response.json().get("category") or "no detail")
    except ValueError:
        return "no detail"
