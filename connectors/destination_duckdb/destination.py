"""DestinationDuckdb: spec, check, and the write loop tying records, state and commits together."""

import gc
import logging
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import orjson
from airbyte_cdk.destinations import Destination
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    DestinationSyncMode,
    FailureType,
    Status,
    Type,
)
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteMessageSerializer
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from connector_kit.protocol_lines import OTHER_LINE, RECORD_STREAMS

from destination_duckdb.identifiers import quote_identifier
from destination_duckdb.stream_writer import StreamWriter, Transaction

logger = logging.getLogger("airbyte")

DEFAULT_SCHEMA = "main"
DEFAULT_BATCH_SIZE = 50_000
# DuckDB keeps the blocks of the tables it writes in its buffer pool, up to 80 % of the machine's
# memory by default: a sync's memory would grow with the size of the table, not of the batch.
DEFAULT_MEMORY_LIMIT = "512MB"
# DuckDB's worker threads. A sync runs the source, the orchestrator and this destination side by
# side, and the source (one Python thread) bounds it: DuckDB's threads would take cores from it
# for a batch load that one thread does in the time the source reads the next batch. Measured on
# 2 cores: 850,000 members loaded with 10 % less CPU time on one thread than on two.
DEFAULT_THREADS = 1
# DuckDB's own checkpointing is kept (a COMMIT past 16 MB of log checkpoints the file): with one
# commit per state message (stream_writer.Transaction) rather than per batch, raising the
# threshold changed nothing measurable (README.md, "DuckDB settings that matter").


class RecordLine:
    """A RECORD message parsed (any layout but the CDK's): stream, data and emission time."""

    __slots__ = ("stream", "data", "emitted_at")
    type = Type.RECORD

    def __init__(self, stream: str, data: Mapping[str, Any], emitted_at: int) -> None:
        self.stream = stream
        self.data = data
        self.emitted_at = emitted_at

    @property
    def record(self) -> "RecordLine":
        return self


class RecordLines:
    """Consecutive RECORD lines of one stream in the CDK's layout, as the source wrote them.

    ``lines`` is their text, each line ending with a newline; nothing in them is parsed in
    Python: DuckDB's JSON reader takes ``record.data`` and ``record.emitted_at`` out of each.
    """

    __slots__ = ("stream", "lines", "count")
    type = Type.RECORD

    def __init__(self, stream: str, lines: bytes, count: int) -> None:
        self.stream = stream
        self.lines = lines
        self.count = count

    @property
    def record(self) -> "RecordLines":
        return self


# Blocks of stdin read at once: the records in a block are handed on as runs of lines.
READ_BLOCK_BYTES = 1 << 20


def read_messages(input_stream: BinaryIO) -> Iterator[AirbyteMessage | RecordLine | RecordLines]:
    """The messages of the destination's input: runs of record lines as text; the rest parsed.

    The CDK would turn every line into the protocol's dataclasses (serpyco-rs), which for a record
    costs more than loading it. stdin is read in blocks of whole lines; the record lines in the
    CDK's layout are found with the orchestrator's regular expressions
    (``connector_kit.protocol_lines``) and passed on per stream as runs of text, so Python does
    no work per record. Any other line is parsed with orjson: a record in another layout becomes
    a ``RecordLine``, the other messages the protocol's dataclasses.
    """
    rest = b""
    while chunk := input_stream.read1(READ_BLOCK_BYTES):
        block = rest + chunk
        end = block.rfind(b"\n") + 1
        if end:
            yield from _block_messages(b"\n" + block[:end])
        rest = block[end:]
    if rest:
        yield from _block_messages(b"\n" + rest + b"\n")


def _block_messages(text: bytes) -> Iterator[AirbyteMessage | RecordLine | RecordLines]:
    """The messages of a block of whole lines that starts with a newline of its own."""
    start = 1
    for other in OTHER_LINE.finditer(text):
        line = other.group(1)
        if not line:
            continue  # the end of the block, or a blank line
        yield from _record_runs(text, start, other.start() + 1)
        start = other.end() + 1
        message = _parsed_message(line)
        if message is not None:
            yield message
    yield from _record_runs(text, start, len(text))


def _record_runs(text: bytes, start: int, end: int) -> Iterator[RecordLines]:
    """The record lines ``text[start:end]`` (each preceded by a newline) as runs per stream."""
    if start >= end:
        return
    streams = RECORD_STREAMS.findall(text, start - 1, end)
    if streams.count(streams[0]) == len(streams):  # one stream: the usual case
        yield RecordLines(streams[0].decode(), text[start:end], len(streams))
        return
    run_stream, run_start, count = None, start, 0
    for match in RECORD_STREAMS.finditer(text, start - 1, end):
        if match.group(1) != run_stream:
            if count:
                yield RecordLines(run_stream.decode(), text[run_start : match.start() + 1], count)
            run_stream, run_start, count = match.group(1), match.start() + 1, 0
        count += 1
    yield RecordLines(run_stream.decode(), text[run_start:end], count)


def _parsed_message(line: bytes) -> AirbyteMessage | RecordLine | None:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        message = None
    if not isinstance(message, dict):
        logger.info(f"ignoring input which is not an Airbyte message: {line[:200]!r}")
        return None
    if message.get("type") == "RECORD":
        record = message["record"]
        return RecordLine(record["stream"], record["data"], record["emitted_at"])
    return AirbyteMessageSerializer.load(message)


class DestinationDuckdb(Destination):
    """Loads each stream into a typed table ``<schema>.<stream>`` of a DuckDB file."""

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Open the file and create and drop a probe table in the configured schema."""
        try:
            with _connect(config) as con:
                probe = f"{quote_identifier(_schema(config))}._airbyte_connection_probe"
                con.execute(f"CREATE OR REPLACE TABLE {probe} (ok BOOLEAN)")
                con.execute(f"DROP TABLE {probe}")
        except Exception as error:  # any failure is the answer to "can we write here?"
            return AirbyteConnectionStatus(status=Status.FAILED, message=f"{error}")
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterable[AirbyteMessage]:
        """Load the records; pass each state message on only once everything before it is committed.

        An overwrite stream's new table replaces the old one when the source reports the stream
        COMPLETE, or, at the end of the input, if the source checkpointed it (a full-refresh
        source emits its state after the stream's last record) and never reported it INCOMPLETE.
        A stream that fails half-way thus leaves the previous table in place.
        """
        batch_size = int(config.get("batch_size") or DEFAULT_BATCH_SIZE)
        # Records are plain, acyclic dicts: the cyclic garbage collector finds nothing in them but
        # walks every buffered one again and again (parsing a batch of members took 2.8 times as
        # long with it on). Objects alive now are frozen out of its sight, and it runs once per
        # flushed batch instead (StreamWriter.flush).
        gc.freeze()
        automatic_gc = gc.isenabled()
        gc.disable()
        try:
            yield from self._load(config, configured_catalog, input_messages, batch_size)
        finally:
            gc.unfreeze()
            if automatic_gc:
                gc.enable()

    def _load(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
        batch_size: int,
    ) -> Iterable[AirbyteMessage]:
        with _connect(config) as con, _staging_folder(config) as staging:
            transaction = Transaction(con)
            writers = {
                stream.stream.name: StreamWriter(
                    transaction, _schema(config), stream, batch_size, staging / f"{index}.jsonl"
                )
                for index, stream in enumerate(configured_catalog.streams)
            }
            checkpointed: set[str] = set()
            incomplete: set[str] = set()
            for message in input_messages:
                if message.type == Type.RECORD:
                    record = message.record
                    writer = writers.get(record.stream)
                    if writer is None:
                        raise AirbyteTracedException(
                            message=f"Record for stream '{record.stream}', not in the catalog.",
                            failure_type=FailureType.system_error,
                        )
                    if isinstance(record, RecordLines):
                        writer.add_lines(record.lines, record.count)
                    else:
                        writer.add(record.data, record.emitted_at)
                elif message.type == Type.STATE:
                    for writer in writers.values():
                        writer.flush()
                    transaction.commit()
                    checkpointed |= _streams_of(message.state, writers)
                    yield message
                elif message.type == Type.TRACE and message.trace.stream_status:
                    status = message.trace.stream_status
                    writer = writers.get(status.stream_descriptor.name)
                    if writer is None:
                        continue
                    if status.status == AirbyteStreamStatus.INCOMPLETE:
                        incomplete.add(writer.name)
                    elif status.status == AirbyteStreamStatus.COMPLETE and _overwrites(writer):
                        writer.publish()
            for writer in writers.values():
                writer.flush()
            transaction.commit()
            for writer in writers.values():
                if not _overwrites(writer) or writer.published:
                    continue
                if writer.name in checkpointed and writer.name not in incomplete:
                    writer.publish()
                else:
                    logger.warning(
                        f"Stream {writer.name} did not complete: its previous table is kept."
                    )


def _overwrites(writer: StreamWriter) -> bool:
    return writer.mode == DestinationSyncMode.overwrite


def _streams_of(state: AirbyteStateMessage, writers: Mapping[str, StreamWriter]) -> set[str]:
    """The streams a state message checkpoints: one for a STREAM state, else all of them."""
    if state.type == AirbyteStateType.STREAM and state.stream:
        return {state.stream.stream_descriptor.name}
    return set(writers)


def _schema(config: Mapping[str, Any]) -> str:
    return config.get("schema") or DEFAULT_SCHEMA


@contextmanager
def _staging_folder(config: Mapping[str, Any]) -> Iterator[Path]:
    """The private folder (mode 0700) batches are staged in as JSON lines, beside the database.

    Opened after the database, whose lock admits one writing process: what a killed sync left
    there is its own and is cleared first; the folder is removed at the end.
    """
    database = Path(config["destination_path"])
    folder = database.with_name(f".{database.name}.staging")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _connect(config: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
    path = Path(config["destination_path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        # DuckDB allows one writing process per file: say so, and who holds it, rather than the
        # CDK's "Something went wrong in the connector".
        holder = re.search(r"PID \d+", str(error))
        raise AirbyteTracedException(
            message=f"The warehouse {path} is open for writing by another process"
            f"{f' ({holder.group()})' if holder else ''}. DuckDB allows one writing process per "
            "file: wait for the other sync or dbt run to finish, or run them one after another.",
            internal_message=str(error),
            failure_type=FailureType.transient_error,
        ) from error
    settings = (
        ("memory_limit", DEFAULT_MEMORY_LIMIT, "a memory size DuckDB reads (such as '512MB')"),
        ("threads", DEFAULT_THREADS, "a number of threads DuckDB accepts (1 or more)"),
    )
    for field, default, expected in settings:
        value = config.get(field) or default
        try:
            con.execute(f"SET {field} = ?", [value])
        except duckdb.Error as error:
            con.close()
            raise AirbyteTracedException(
                message=f"Config field '{field}': {value!r} is not {expected}.",
                internal_message=str(error),
                failure_type=FailureType.config_error,
            ) from error
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(_schema(config))}")
    return con
