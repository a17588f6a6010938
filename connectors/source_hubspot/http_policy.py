"""How this source talks HTTP: timeouts, bounded retries honouring Retry-After, strict pages.

source_mailchimp has a twin of this module, kept apart on purpose: each connector is packaged
and versioned on its own, and the few lines shared are not worth a cross-connector dependency.
"""

import logging
from datetime import timedelta
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, HttpStatusErrorHandler
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

# (connect, read) seconds. HubSpot answers within seconds; 120 s leaves room for a slow page.
REQUEST_TIMEOUT = (10.0, 120.0)
MAX_RETRIES = 5
MAX_RETRY_TIME = timedelta(minutes=10)


class RetryAfterBackoff(BackoffStrategy):
    """Wait as long as ``Retry-After`` asks; without it the CDK's exponential backoff applies."""

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        retry_after = response_or_exception.headers.get("Retry-After", "")
        try:
            return max(float(retry_after), 0.0) or None
        except ValueError:  # absent, or an HTTP date: fall back to exponential backoff
            return None


def bounded_error_handler(logger: logging.Logger) -> HttpStatusErrorHandler:
    """The CDK's status mapping (429/5xx retried, 4xx fail) with explicit caps on retries."""
    return HttpStatusErrorHandler(logger=logger, max_retries=MAX_RETRIES, max_time=MAX_RETRY_TIME)


def parse_page(response: requests.Response, envelope_key: str) -> tuple[list[Any], dict[str, Any]]:
    """Parse a page with orjson and return ``(items, body)``.

    A 200 without the array the endpoint promises is an error, never an empty page: reading it as
    "no more data" would end the stream silently with records missing.
    """
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise _bad_response(response, "is not JSON") from error
    items = body.get(envelope_key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise _bad_response(response, f"has no '{envelope_key}' array")
    return items, body


def _bad_response(response: requests.Response, problem: str) -> AirbyteTracedException:
    # The URL carries no credential (auth is a header), so it is safe in the message.
    path = requests.utils.urlparse(response.url).path
    return AirbyteTracedException(
        message=f"HubSpot answered {path} with HTTP {response.status_code}, the body {problem}.",
        failure_type=FailureType.system_error,
    )
