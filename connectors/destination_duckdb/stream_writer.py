"""One stream's table: buffering, batched loads, and the overwrite / append / dedup semantics."""

import gc
import logging
from collections.abc import Mapping
from typing import Any

import duckdb
from airbyte_cdk.models import ConfiguredAirbyteStream, DestinationSyncMode, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_duckdb.columns import TYPECAST_ERROR, Column, columns_from_schema, to_arrow
from destination_duckdb.identifiers import quote_identifier, quote_literal

logger = logging.getLogger("airbyte")

TMP_PREFIX = "_airbyte_tmp_"
STAGED = "_airbyte_staged_batch"  # the name an Arrow batch is registered under for one load


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
    ) -> None:
        self.name = configured_stream.stream.name
        self.mode = configured_stream.destination_sync_mode
        self._con = con
        self._batch_size = batch_size
        self._columns = columns_from_schema(configured_stream.stream.json_schema)
        self._schema = quote_identifier(schema)
        self._final = f"{self._schema}.{quote_identifier(self.name)}"
        self._records: list[Mapping[str, Any]] = []
        self._emitted_at: list[int] = []
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

    def add(self, data: Mapping[str, Any], emitted_at: int) -> None:
        """Buffer a record; load the buffer once it holds ``batch_size`` records."""
        self._records.append(data)
        self._emitted_at.append(emitted_at)
        if len(self._records) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        """Load and commit the buffered records (one transaction, whatever the mode)."""
        if not self._records:
            return
        batch = to_arrow(self._columns, self._records, self._emitted_at)
        self._con.register(STAGED, batch)
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
            self._con.unregister(STAGED)
        logger.info(f"Stream {self.name}: loaded a batch of {len(self._records)} records.")
        self._records, self._emitted_at = [], []
        gc.collect()  # the write loop turns automatic collection off (DestinationDuckdb.write)

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
        """Cast the staged ``c<i>`` columns to the table's; compute the meta columns."""
        selects = [
            f"{_cast(f'c{i}', c)} AS {quote_identifier(c.name)}"
            for i, c in enumerate(self._columns)
        ]
        # Timestamps are parsed here, so unparsable ones are reported here ("" is simply NULL).
        timestamp_changes = [
            f"CASE WHEN c{i} <> '' AND TRY_CAST(c{i} AS TIMESTAMPTZ) IS NULL THEN "
            f"{{'field': {quote_literal(c.field)}, 'change': 'NULLED', "
            f"'reason': '{TYPECAST_ERROR}'}} END"
            for i, c in enumerate(self._columns)
            if c.kind == "timestamp"
        ]
        changes = "coalesce(_ab_changes, [])"
        if timestamp_changes:
            changes = (
                f"list_concat({changes}, list_filter([{', '.join(timestamp_changes)}], "
                "lambda change: change IS NOT NULL))"
            )
        selects += [
            "uuid()::VARCHAR AS _airbyte_raw_id",
            "_ab_extracted_at AS _airbyte_extracted_at",
            f"to_json({{'changes': {changes}}})::JSON AS _airbyte_meta",
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
            f"{_cast(f'c{position[c.field]}', c)} AS {quote_identifier(c.name)}"
            for c in key_columns
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


def _cast(staged: str, column: Column) -> str:
    if column.kind == "timestamp":
        return f"TRY_CAST(NULLIF({staged}, '') AS TIMESTAMPTZ)"
    if column.kind == "json":
        return f"{staged}::JSON"
    return staged
