"""How the sources talk HTTP: timeouts, bounded retries honouring Retry-After, strict pages."""

import logging
import os
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import cached_property
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

# (connect, read) seconds. MailChimp itself gives up on a request after 120 s. The read timeout
# can be lowered for tests of a server that hangs (the chaos suite): CONNECTOR_READ_TIMEOUT_SECONDS.
REQUEST_TIMEOUT = (10.0, float(os.environ.get("CONNECTOR_READ_TIMEOUT_SECONDS") or 120.0))
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

        A record without its primary key stops the stream (see ``_missing_key``).
        """
        fields = self._key_fields
        for record in self.read_pages(stream_slice, stream_state):
            if type(record) is dict or isinstance(record, Mapping):
                for name in fields:
                    if record.get(name) is None:
                        raise self._missing_key(name)
            yield record

    def read_pages(
        self, stream_slice: Mapping[str, Any] | None, stream_state: Mapping[str, Any] | None
    ) -> Iterable[StreamData]:
        """The slice's records, page by page; a stream with a second endpoint overrides this.

        A page that repeats records of the previous page stops the stream (``_repeated_page``).
        """
        fields = self._key_fields
        previous: set[tuple[Any, ...]] = set()

        def parse(_request: Any, response: requests.Response, _state: Any, page_slice: Any) -> Any:
            nonlocal previous
            records = list(self.parse_response(response, stream_slice=page_slice))
            if fields:
                keys = {
                    tuple(map(r.get, fields))
                    for r in records
                    if type(r) is dict or isinstance(r, Mapping)
                }
                if not previous.isdisjoint(keys):
                    raise self._repeated_page(len(previous & keys))
                previous = keys
            return records

        yield from self._read_pages(parse, stream_slice, stream_state)

    @cached_property
    def _key_fields(self) -> tuple[str, ...]:
        """The top-level fields of the primary key (``"id"``, ``["id", "list_id"]``)."""
        key = self.primary_key
        if not key:
            return ()
        if isinstance(key, str):
            return (key,)
        return tuple(part if isinstance(part, str) else part[0] for part in key)

    def _missing_key(self, field: str) -> AirbyteTracedException:
        # Passing it on would land a row that can be neither deduplicated nor updated, and would
        # let the stream's state move past the record it should have been; skipping it would
        # lose it silently. The message names the field, never the record (personal data).
        return AirbyteTracedException(
            message=f"Stream '{self.name}': the API sent a record without its primary key "
            f"('{field}' is missing or null). The stream stopped there, its state unchanged; "
            "the next sync reads it again.",
            failure_type=FailureType.system_error,
        )

    def _repeated_page(self, repeated: int) -> AirbyteTracedException:
        # Offset paging counts the repeated records as read: records after them would be
        # skipped without a trace. A repeat means the collection shifted (or the API erred)
        # while it was paged, so the only safe answer is to stop and read it again.
        return AirbyteTracedException(
            message=f"Stream '{self.name}': a page repeated {repeated} record(s) of the previous "
            "page (the collection changed while it was paged, or the API repeated a page), so "
            "records may have been skipped. The stream stopped, its state unchanged; run the "
            "sync again.",
            failure_type=FailureType.transient_error,
        )
