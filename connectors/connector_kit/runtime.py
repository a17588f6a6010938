"""How a source process starts and writes its messages: the CDK's entrypoint with a cheaper path
for records, and the garbage collector tuned for a stream of acyclic records.

A read spent most of its CPU time per record in the CDK's generic machinery rather than in HTTP
or parsing: turning the record into an ``AirbyteMessage`` (an ABC match, a copy, a type
transformer), counting it under a ``HashableStreamDescriptor``, serializing it twice over
(serpyco-rs, then orjson), ``print``-ing it into the ``PRINT_BUFFER`` text buffer. Overrides of
the CDK's own hooks take the short way for the common case and leave every other case to the CDK:

- ``RecordSource._get_message`` (``AbstractSource``'s hook) builds the message of a plain ``dict``
  record directly when its stream keeps the CDK's default, no-op type transformer, and
  ``RecordSource._emit_queued_messages`` (called after every record) creates no generator;
- ``SourceEntrypoint.read`` (``AirbyteEntrypoint``'s) counts records in a plain dict, sets
  ``sourceStats.recordCount`` on each state message as ``handle_record_counts`` does, and writes
  each record line itself, serialized by one ``orjson.dumps`` of a plain dict, to a
  ``BlockStdout``. Every other message goes back to ``run``, which serializes it as ever;
- ``launch_source`` is ``launch`` with those two and a ``BlockStdout`` in ``PRINT_BUFFER``'s place.

The orchestration (streams, slices, state manager, statuses, errors, exit codes, secret masking)
stays the CDK's. Checked against airbyte-cdk 7.39.1 (pinned in uv.lock);
tests/test_connector_runtime.py compares the processes' output with the CDK's own.
"""

import gc
import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, ConnectorSpecification, Type
from airbyte_cdk.sources import AbstractSource, Source
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.utils import message_utils
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

# Collect the young generation after this many net allocations instead of 700: a parsed page is
# some 15,000 dicts, lists and strings, none of them in a reference cycle.
YOUNG_GENERATION_THRESHOLD = 20_000

# The transformer every stream has unless it sets its own: TransformConfig.NoTransform.
_DEFAULT_TRANSFORMER = Stream.transformer

_RECORD = Type.RECORD
_STATE = Type.STATE
_NEWLINE = orjson.OPT_APPEND_NEWLINE


class RecordSource(AbstractSource):
    """An ``AbstractSource`` whose plain ``dict`` records become messages without the detour."""

    def _get_message(
        self, record_data_or_message: StreamData | AirbyteMessage, stream: Stream
    ) -> AirbyteMessage:
        """What ``stream_data_to_airbyte_message`` makes of a ``dict``, minus the work it skips.

        The CDK copies the record so that its transformer can normalize the copy; the default
        transformer does nothing, and the record is the stream's own freshly parsed dict, which
        nothing changes after yielding it. Anything else (messages, other mappings, a stream with
        a transformer of its own) takes the CDK's path.
        """
        if type(record_data_or_message) is dict and stream.transformer is _DEFAULT_TRANSFORMER:
            return AirbyteMessage(
                type=_RECORD,
                record=AirbyteRecordMessage(
                    stream=stream.name,
                    data=record_data_or_message,
                    emitted_at=time.time_ns() // 1_000_000,
                ),
            )
        return super()._get_message(record_data_or_message, stream)

    def _emit_queued_messages(self) -> Iterable[AirbyteMessage]:
        """The queue's messages; called after every record, so no generator of its own."""
        repository = self.message_repository
        return repository.consume_queue() if repository else ()


def record_line(message: AirbyteMessage) -> bytes:
    """The RECORD message as one JSON line (newline included), byte for byte what the CDK writes.

    serpyco-rs omits the message's fields that are None and, in ``data``, the top-level fields
    that are None (nested ones stay), then orjson writes the result; one ``orjson.dumps`` of the
    same dict does both. A record with ``meta`` or a file reference, or data orjson cannot write
    (the CDK then falls back to ``json``), goes to the CDK's serializer.
    """
    record = message.record
    if record is None:
        raise ValueError("Record message must have a record attribute")
    data = record.data
    if record.meta is None and record.file_reference is None and type(data) is dict:
        if None in data.values():
            data = {name: value for name, value in data.items() if value is not None}
        fields: dict[str, Any] = {
            "stream": record.stream,
            "data": data,
            "emitted_at": record.emitted_at,
        }
        if record.namespace is not None:
            fields["namespace"] = record.namespace
        try:
            return orjson.dumps({"type": "RECORD", "record": fields}, option=_NEWLINE)
        except TypeError:
            pass
    return (AirbyteEntrypoint.airbyte_message_to_string(message) + "\n").encode()


class BlockStdout:
    """The process's stdout while a source runs: whole lines, in order, written in blocks.

    It stands in for the CDK's ``PRINT_BUFFER`` (a text buffer flushed at most every 0.1 s) as
    ``sys.stdout``, ``sys.stderr`` and the stream of the CDK's log handler, so protocol messages,
    log lines and stray prints all land in one ordered buffer; record lines join it as the bytes
    orjson made, without a detour through text. Each ``write`` takes a whole line (the log handler
    writes a record and its terminator in one call, under its own lock; our lines end in their
    newline), so nothing interleaves inside a line. The buffer goes to the real stdout when it
    holds ``BLOCK_BYTES``, when 0.1 s passed since the last write-out (as ``PRINT_BUFFER``), when
    asked (after every state message) and at the end.
    """

    BLOCK_BYTES = 256 * 1024
    FLUSH_INTERVAL = 0.1

    def __init__(self, target: TextIO | None = None) -> None:
        """``target``: the real stdout (a text stream with a binary ``buffer``) by default."""
        self._parts: list[bytes] = []
        self._size = 0
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._target = target or sys.__stdout__
        self.encoding = self._target.encoding if self._target else "utf-8"
        self.errors = (self._target.errors if self._target else None) or "strict"

    def write(self, text: str) -> int:
        self.write_bytes(text.encode(self.encoding, self.errors))
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        with self._lock:
            self._parts.append(data)
            self._size += len(data)
            if (
                self._size >= self.BLOCK_BYTES
                or time.monotonic() - self._last_flush >= self.FLUSH_INTERVAL
            ):
                self._write_out()

    def flush(self) -> None:
        with self._lock:
            self._write_out()

    def _write_out(self) -> None:
        target = self._target
        if target is None:
            return
        target.flush()  # anything written to the text layer directly goes first
        target.buffer.write(b"".join(self._parts))
        target.buffer.flush()
        self._parts.clear()
        self._size = 0
        self._last_flush = time.monotonic()

    def isatty(self) -> bool:
        return False

    @contextmanager
    def installed(self) -> Iterator["BlockStdout"]:
        """Be stdout, stderr and the CDK log handler's stream (``PRINT_BUFFER``'s places)."""
        PRINT_BUFFER.flush()
        handlers = [
            handler
            for handler in logging.getLogger().handlers
            if isinstance(handler, logging.StreamHandler) and handler.stream is PRINT_BUFFER
        ]
        saved = sys.stdout, sys.stderr
        for handler in handlers:
            handler.setStream(self)  # type: ignore[arg-type]
        sys.stdout = sys.stderr = self  # type: ignore[assignment]
        try:
            yield self
        finally:
            sys.stdout, sys.stderr = saved
            for handler in handlers:
                handler.setStream(PRINT_BUFFER)  # type: ignore[arg-type]
            self.flush()


class SourceEntrypoint(AirbyteEntrypoint):
    """``AirbyteEntrypoint`` whose ``read`` writes record lines itself, to ``output``.

    ``run`` serializes what ``read`` yields with ``AirbyteEntrypoint.airbyte_message_to_string``
    (named by class, so no override reaches it); ``read`` therefore yields every message but
    records, and writes each record's line to ``output``, where ``launch_source`` writes ``run``'s
    lines and the CDK's logger its lines, in the order the source produced them.
    """

    def __init__(self, source: Source, output: BlockStdout) -> None:
        super().__init__(source)
        self.output = output

    def read(
        self,
        source_spec: ConnectorSpecification,
        config: Mapping[str, Any],
        catalog: Any,
        state: list[Any],
    ) -> Iterable[AirbyteMessage]:
        """``AirbyteEntrypoint.read`` with the records written here (same checks, same counts)."""
        self.set_up_secret_filter(config, source_spec.connectionSpecification)
        if self.source.check_config_against_spec:
            self.validate_connection(source_spec, config)

        # Records per (stream name, namespace) since the stream's last state message; floats, as
        # the protocol wants counts.
        counts: dict[tuple[str, str | None], float] = {}
        write = self.output.write_bytes
        check_memory = self._memory_monitor.check_memory_usage
        for message in self.source.read(self.logger, config, catalog, state):
            if message.type is _RECORD:
                record = message.record
                key = (record.stream, record.namespace)  # type: ignore[union-attr]
                counts[key] = counts.get(key, 0.0) + 1.0
                write(record_line(message))
            else:
                yield from self._counted(message, counts)
            try:
                check_memory()
            except AirbyteTracedException:
                # As the CDK does: pass on the last state before failing fast.
                for queued in self._emit_queued_messages(self.source):
                    yield from self._counted(queued, counts)
                raise
        for queued in self._emit_queued_messages(self.source):
            yield from self._counted(queued, counts)

    def _counted(
        self, message: AirbyteMessage, counts: dict[tuple[str, str | None], float]
    ) -> Iterator[AirbyteMessage]:
        """Yield a message that is not a record; a state gets its count and is flushed out."""
        if message.type is _RECORD:  # a queued record (rare): counted, the CDK serializes it
            record = message.record
            key = (record.stream, record.namespace)  # type: ignore[union-attr]
            counts[key] = counts.get(key, 0.0) + 1.0
        elif message.type is _STATE:
            # handle_record_counts's rule: the records of this stream since its previous state.
            descriptor = message_utils.get_stream_descriptor(message)
            count = counts.pop((descriptor.name, descriptor.namespace), 0.0)
            yield self.handle_record_counts(message, {descriptor: count})  # type: ignore[arg-type]
            # launch_source has written the state's line: send it on now.
            self.output.flush()
            return
        yield message


def launch_source(source: Source, args: list[str]) -> None:
    """``airbyte_cdk.entrypoint.launch`` with ``SourceEntrypoint`` writing to a ``BlockStdout``,
    and the garbage collector kept out of the way.

    Importing the CDK leaves some 100,000 long-lived objects (models, schemas, modules) that every
    full collection walks again; a page of records triggers collections dozens of times. Freezing
    what exists before the read moves those objects out of the collector's sight, and a higher
    young-generation threshold makes collections rarer: together they nearly halve the CPU time of
    parsing a page (measured with ``bench``; see docs/benchmarks.md). Memory stays bounded: records
    hold no cycles, so reference counting frees each page as soon as it has been written.
    """
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
    output = BlockStdout()
    entrypoint = SourceEntrypoint(source, output)
    parsed_args = entrypoint.parse_args(args)
    with output.installed():
        for line in entrypoint.run(parsed_args):
            output.write(f"{line}\n")
