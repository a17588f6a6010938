"""How the sources talk HTTP: timeouts, bounded retries honouring Retry-After, strict pages."""

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.error_handlers import (
    BackoffStrategy,
    ErrorHandler,
    HttpStatusErrorHandler,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

# (connect, read) seconds. MailChimp itself gives up on a request after 120 s.
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


def parse_page(
    response: requests.Response, envelope_key: str, api: str
) -> tuple[list[Any], dict[str, Any]]:
    """Parse a page with orjson and return ``(items, body)``.

    A 200 without the array the endpoint promises is an error, never an empty page: reading it as
    "no more data" would end the stream silently with records missing.
    """
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as error:
        raise _bad_response(response, api, "is not JSON") from error
    items = body.get(envelope_key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise _bad_response(response, api, f"has no '{envelope_key}' array")
    return items, body


def _bad_response(response: requests.Response, api: str, problem: str) -> AirbyteTracedException:
    # The URL carries no credential (auth is a header), so it is safe in the message.
    path = requests.utils.urlparse(response.url).path
    return AirbyteTracedException(
        message=f"{api} answered {path} with HTTP {response.status_code}, the body {problem}.",
        failure_type=FailureType.system_error,
    )


class ApiStream(HttpStream):
    """An ``HttpStream`` with the project's HTTP policy, reading each slice's pages in one go.

    A stream that reads one collection per parent object (members per audience) sets
    ``partition_key``, the slice key naming the parent, and implements ``partitions()``.
    """

    partition_key: str | None = None
    # The stream's inline JSON schema (a stream that builds its schema overrides get_json_schema).
    json_schema: Mapping[str, Any]

    def __init__(self, base_url: str, authenticator: Any, page_size: int) -> None:
        self._base_url = base_url.rstrip("/") + "/"
        self.page_size = page_size
        super().__init__(authenticator=authenticator)

    @property
    def url_base(self) -> str:
        return self._base_url

    def get_json_schema(self) -> Mapping[str, Any]:
        # The CDK asks for it once per record, so it must cost nothing.
        return self.json_schema

    def partitions(self) -> Iterable[str]:
        """The parent ids to read, for partitioned streams."""
        raise NotImplementedError

    def stream_slices(self, **_: Any) -> Iterable[Mapping[str, Any] | None]:
        if not self.partition_key:
            yield {}
            return
        for partition in self.partitions():
            yield {self.partition_key: partition}

    @property
    def is_resumable(self) -> bool:
        """Plain full refresh: a failed sync starts over, see ``read_records``."""
        return False

    def get_error_handler(self) -> ErrorHandler:
        return bounded_error_handler(self.logger)

    def get_backoff_strategy(self) -> BackoffStrategy:
        return RetryAfterBackoff()

    def request_kwargs(self, **_: Any) -> Mapping[str, Any]:
        return {"timeout": REQUEST_TIMEOUT}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[StreamData]:
        """Read every page of the slice in one go.

        Overridden, with ``is_resumable`` False, so that the CDK does not switch to "resumable
        full refresh", which emits a state message after every page: each state makes the
        destination commit, and a commit per page would cap the load rate. At the end of the
        stream (or of each slice, for incremental streams) the CDK still emits a state message.
        """
        yield from self.read_pages(stream_slice, stream_state)

    def read_pages(
        self, stream_slice: Mapping[str, Any] | None, stream_state: Mapping[str, Any] | None
    ) -> Iterable[StreamData]:
        """The slice's records, page by page; a stream with a second endpoint overrides this."""
        yield from self._read_pages(
            lambda _request, response, _state, page_slice: self.parse_response(
                response, stream_slice=page_slice
            ),
            stream_slice,
            stream_state,
        )
