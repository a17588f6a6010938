"""SourceMailchimp: config handling, the connection check and the list of streams."""

import logging
from collections.abc import Mapping
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http.requests_native_auth import BasicHttpAuthenticator
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from connector_kit.http import REQUEST_TIMEOUT

from source_mailchimp.streams import (
    Campaigns,
    EmailActivity,
    ListMembers,
    Lists,
    Reports,
    Segments,
    Tags,
    Unsubscribes,
)

DEFAULT_BASE_URL = "https://{dc}.api.mailchimp.com/3.0"
DEFAULT_PAGE_SIZE = 1000


def resolve_base_url(config: Mapping[str, Any]) -> str:
    """The API root, with ``{dc}`` replaced by the data centre that ends the key (``...-us6``)."""
    base_url: str = config.get("base_url") or DEFAULT_BASE_URL
    if "{dc}" not in base_url:
        return base_url
    _, dash, data_centre = config["apikey"].rpartition("-")
    if not dash or not data_centre.isalnum():
        raise AirbyteTracedException(
            message="Config field 'apikey' has no data-centre suffix (such as '-us6'), "
            "which the default 'base_url' needs. Check the key, or set 'base_url'.",
            failure_type=FailureType.config_error,
        )
    return base_url.replace("{dc}", data_centre)


class SourceMailchimp(AbstractSource):
    """Audiences with their members, segments and tags; campaigns with their reports, email
    activity and unsubscribes: the MailChimp Marketing API v3."""

    def _stream_kwargs(self, config: Mapping[str, Any]) -> dict[str, Any]:
        # HTTP Basic with any user name and the key as password, as MailChimp documents; a
        # header, never the URL, so the key cannot leak into error messages quoting a URL.
        authenticator = BasicHttpAuthenticator(username="anystring", password=config["apikey"])
        # The CDK masks the config's secrets in every log line, but with --debug it logs request
        # headers, where the key appears base64-encoded: mask that form too.
        add_to_secrets(authenticator.token.removeprefix("Basic "))
        return {
            "base_url": resolve_base_url(config),
            "authenticator": authenticator,
            "page_size": int(config.get("page_size") or DEFAULT_PAGE_SIZE),
        }

    def check_connection(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> tuple[bool, str | None]:
        """``GET /ping`` with the key: one cheap call that proves the URL and the credential."""
        base_url = resolve_base_url(config).rstrip("/")
        try:
            response = requests.get(
                f"{base_url}/ping", auth=("anystring", config["apikey"]), timeout=REQUEST_TIMEOUT
            )
        except requests.RequestException as error:
            return False, f"Could not reach MailChimp at {base_url}: {type(error).__name__}."
        if response.status_code != 200:
            # MailChimp errors are RFC 7807 problems; their title never echoes the key.
            title = _problem_title(response)
            return False, f"MailChimp answered /ping with HTTP {response.status_code}: {title}."
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        kwargs = self._stream_kwargs(config)
        # Each child stream gets a parent of its own: a stream keeps paging state while read.
        return [
            Lists(**kwargs),
            ListMembers(parent=Lists(**kwargs), **kwargs),
            Segments(parent=Lists(**kwargs), **kwargs),
            Tags(parent=Lists(**kwargs), **kwargs),
            Campaigns(**kwargs),
            Reports(**kwargs),
            # Only sent campaigns have a report.
            EmailActivity(parent=Campaigns(status="sent", **kwargs), **kwargs),
            Unsubscribes(parent=Campaigns(status="sent", **kwargs), **kwargs),
        ]


def _problem_title(response: requests.Response) -> str:
    try:
        return str(response.json().get("title") or "no detail")
    except ValueError:
        return "no detail"
