"""One stream's table: buffering, batched loads, and the overwrite / append / dedup semantics."""

import gc
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import orjson
from airbyte_cdk.models import ConfiguredAirbyteStream, DestinationSyncMode, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_duckdb.columns import (
    EMITTED_AT_KEY,
    columns_from_schema,
    reader_columns,
    typed_select,
)
from destination_duckdb.identifiers import quote_identifier, quote_literal

logger = logging.getLogger("airbyte")

TMP_PREFIX = "_airbyte_tmp_"
STAGED = "_airbyte_staged_batch"  # the temporary table a batch is typed into for one load
MAX_RECORD_BYTES = 64 << 20  # DuckDB's JSON reader refuses larger records; it buffers twice this
_EMITTED_AT_FIELD = b'"' + EMITTED_AT_KEY.encode() + b'"'


class StreamWriter:
    """Buffers one stream's records and loads them into its table a batch at a time.

    * append: each batch is inserted into the table.
    * append_dedup: each batch is inserted, then for the primary keys it touched only the latest
      row (by cursor, then extraction time) is kept.
    * overwrite: batches go into a ``_airbyte_tmp_<stream>`` table, which ``publish()`` swaps in
      for the old one in a single transaction, so the table is never seen empty or half-loaded.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        schema: str,
        configured_stream: ConfiguredAirbyteStream,
        batch_size: int,
        staging_file: Path,
    ) -> None:
        self.name = configured_stream.stream.name
        self.mode = configured_stream.destination_sync_mode
        self._con = con
        self._batch_size = batch_size
        self._columns = columns_from_schema(configured_stream.stream.json_schema)
        # Lines are staged with the record's own field names when DuckDB's reader can tell them
        # apart (it compares names case-insensitively); else re-keyed c0..cN in Python.
        fields = [c.field for c in self._columns]
        self._renamed_keys = [f"c{i}" for i in range(len(fields))]
        self._as_sent = _reader_tells_apart(fields)
        self._staged_keys = fields if self._as_sent else self._renamed_keys
        self._staging_file = staging_file
        self._schema = quote_identifier(schema)
        self._final = f"{self._schema}.{quote_identifier(self.name)}"
        self._lines: list[bytes] = []
        self.published = False
        if self.mode == DestinationSyncMode.overwrite:
            self._table = f"{self._schema}.{quote_identifier(TMP_PREFIX + self.name)}"
            # A temp table left by a failed earlier sync is stale: start it afresh.
            con.execute(f"CREATE OR REPLACE TABLE {self._table} ({self._column_ddl()})")
        else:
            self._table = self._final
            con.execute(f"CREATE TABLE IF NOT EXISTS {self._table} ({self._column_ddl()})")
            for column in self._columns:  # a field added to the source since the last sync
                con.execute(
                    f"ALTER TABLE {self._table} ADD COLUMN IF NOT EXISTS "
                    f"{quote_identifier(column.name)} {column.sql_type}"
                )
        self._dedup = self._dedup_clauses(configured_stream)

    def add(self, data: Mapping[str, Any] | bytes, emitted_at: int) -> None:
        """Buffer a record; load the buffer once it holds ``batch_size`` records.

        ``data`` is the record's data, parsed or as the JSON text the source sent (then it is
        never parsed in Python: the line staged is that text with the emission time added).
        """
        if type(data) is not bytes or not self._as_sent or _EMITTED_AT_FIELD in data:
            data = self._restaged(data)
        self._lines.append(_with_emitted_at(data, int(emitted_at)))
        if len(self._lines) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Load and commit the buffered records (one transaction, whatever the mode)."""
        if not self._lines:
            return
        count = len(self._lines)
        try:
            self._staging_file.write_bytes(b"\n".join(self._lines))
            self._lines = []
            try:
                self._stage(self._staged_keys)
            except duckdb.InvalidInputException:
                # DuckDB's reader refuses what Python's accepts (a key twice in one record): type
                # this batch from lines re-keyed in Python, where the last value of a key wins.
                lines = self._staging_file.read_bytes().split(b"\n")
                self._staging_file.write_bytes(b"\n".join(self._renamed(line) for line in lines))
                self._stage(self._renamed_keys)
        finally:
            self._staging_file.unlink(missing_ok=True)
        try:
            self._con.execute("BEGIN TRANSACTION")
            self._con.execute(
                f"INSERT INTO {self._table} BY NAME SELECT {self._select_list()} FROM {STAGED}"
            )
            if self._dedup:
                self._con.execute(self._dedup)
            self._con.execute("COMMIT")
        except Exception:
            self._con.execute("ROLLBACK")
            raise
        finally:
            self._con.execute(f"DROP TABLE IF EXISTS {STAGED}")
        logger.info(f"Stream {self.name}: loaded a batch of {count} records.")
        gc.collect()  # the write loop turns automatic collection off (DestinationDuckdb.write)

    def _stage(self, keys: list[str]) -> None:
        """Type the staged lines into the temporary table ``STAGED`` (DuckDB's JSON reader)."""
        self._con.execute(
            f"CREATE OR REPLACE TEMP TABLE {STAGED} AS "
            f"SELECT {typed_select(keys, self._columns)} FROM read_json("
            f"{quote_literal(str(self._staging_file))}, format = 'newline_delimited', "
            f"columns = {reader_columns(keys, self._columns)}, "
            f"maximum_object_size = {MAX_RECORD_BYTES})"
        )

    def _restaged(self, data: Mapping[str, Any] | bytes) -> bytes:
        """The record's declared fields as JSON text, keyed as this stream stages them."""
        return self._keyed(_parsed(data, self.name), self._staged_keys)

    def _renamed(self, line: bytes) -> bytes:
        """A staged line re-keyed ``c0..cN``, for a batch DuckDB's reader refused."""
        record = _parsed(line, self.name)
        emitted_at = record.pop(EMITTED_AT_KEY)
        return _with_emitted_at(self._keyed(record, self._renamed_keys), emitted_at)

    def _keyed(self, data: Mapping[str, Any], keys: list[str]) -> bytes:
        pairs = zip(keys, self._columns, strict=True)
        return orjson.dumps({key: data[c.field] for key, c in pairs if c.field in data})

    def publish(self) -> None:
        """Overwrite mode: replace the stream's table by the loaded one, atomically."""
        self.flush()
        tmp_name = quote_identifier(TMP_PREFIX + self.name)
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._con.execute(f"DROP TABLE IF EXISTS {self._final}")
            self._con.execute(
                f"ALTER TABLE {self._schema}.{tmp_name} RENAME TO {quote_identifier(self.name)}"
            )
            self._con.execute("COMMIT")
        except Exception:
            self._con.execute("ROLLBACK")
            raise
        self.published = True

    def _column_ddl(self) -> str:
        columns = [f"{quote_identifier(c.name)} {c.sql_type}" for c in self._columns]
        meta = [
            "_airbyte_raw_id VARCHAR",
            "_airbyte_extracted_at TIMESTAMPTZ",
            "_airbyte_meta JSON",
        ]
        return ", ".join(columns + meta)

    def _select_list(self) -> str:
        """The staged, typed ``c<i>`` columns under the table's names, and the meta columns."""
        selects = [f"c{i} AS {quote_identifier(c.name)}" for i, c in enumerate(self._columns)]
        selects += [
            "uuid()::VARCHAR AS _airbyte_raw_id",
            "_ab_extracted_at AS _airbyte_extracted_at",
            "to_json({'changes': _ab_changes})::JSON AS _airbyte_meta",
        ]
        return ", ".join(selects)

    def _dedup_clauses(self, configured_stream: ConfiguredAirbyteStream) -> str | None:
        """For append_dedup, the DELETE that keeps one row per primary key; else None.

        Only the keys present in the staged batch are ranked, so the work is proportional to the
        batch, not to the table. The latest row wins: highest cursor, then latest extraction.
        """
        if self.mode != DestinationSyncMode.append_dedup:
            return None
        position = {c.field: i for i, c in enumerate(self._columns)}
        key_paths = configured_stream.primary_key or []
        if not key_paths or any(len(path) != 1 or path[0] not in position for path in key_paths):
            raise AirbyteTracedException(
                message=f"Stream {self.name}: append_dedup needs a top-level primary key.",
                failure_type=FailureType.config_error,
            )
        key_columns = [self._columns[position[path[0]]] for path in key_paths]
        keys = ", ".join(quote_identifier(c.name) for c in key_columns)
        batch_keys = ", ".join(
            f"c{position[c.field]} AS {quote_identifier(c.name)}" for c in key_columns
        )
        order = ["_airbyte_extracted_at DESC"]
        cursor = configured_stream.cursor_field or []
        if len(cursor) == 1 and cursor[0] in position:
            cursor_name = quote_identifier(self._columns[position[cursor[0]]].name)
            order.insert(0, f"{cursor_name} DESC NULLS LAST")
        return f"""
            DELETE FROM {self._table} WHERE _airbyte_raw_id IN (
                SELECT _airbyte_raw_id FROM (
                    SELECT _airbyte_raw_id,
                        row_number() OVER (PARTITION BY {keys} ORDER BY {", ".join(order)}) AS rank
                    FROM {self._table}
                    SEMI JOIN (SELECT DISTINCT {batch_keys} FROM {STAGED}) AS batch_keys
                        USING ({keys})
                ) WHERE rank > 1
            )"""


def _reader_tells_apart(fields: list[str]) -> bool:
    """Whether DuckDB's JSON reader can take these field names as they are: it compares names
    case-insensitively, and the emission time is staged under a name of its own."""
    names = [field.lower() for field in [*fields, EMITTED_AT_KEY]]
    return len(set(names)) == len(names)


_EMITTED_AT_HEAD = b'{"' + EMITTED_AT_KEY.encode() + b'":'


def _with_emitted_at(data: bytes, emitted_at: int) -> bytes:
    """``{"_airbyte_emitted_at_ms":<ms>, <the record's fields>}``: ``data`` is a JSON object."""
    rest = data[1:]
    if rest[:1].isspace():
        rest = rest.lstrip()
    if rest[:1] == b"}":
        return b"%s%d}" % (_EMITTED_AT_HEAD, emitted_at)
    return b"%s%d,%s" % (_EMITTED_AT_HEAD, emitted_at, rest)


def _parsed(data: Mapping[str, Any] | bytes, stream: str) -> dict[str, Any]:
    if type(data) is not bytes:
        return dict(data)
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        # The message names the stream, never the record (personal data).
        raise AirbyteTracedException(
            message=f"Stream '{stream}': a record's data is not a JSON object.",
            failure_type=FailureType.system_error,
        )
    return parsed
