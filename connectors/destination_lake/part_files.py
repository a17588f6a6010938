"""One stream's bronze partition: buffered records become immutable part files, landed atomically.

A part file is written under a hidden temporary name (readers such as Spark and DuckDB's
``*.parquet`` globs skip it), flushed to disk with ``fsync``, then hard-linked to its final name
and the directory fsynced. So a reader either sees a whole file or no file, and a file, once it
has its final name, is never written again.

Names are content addresses: ``part-<uuid5>`` of the batch's raw ids and column layout, and each
``_airbyte_raw_id`` is a uuid5 of the stream, the extraction time and the record. Replaying the
same input (a destination retried after a crash) therefore produces the same names, and a file
that already landed is kept as it is instead of being landed twice.
"""

import datetime as dt
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

# The namespace of this destination's uuid5s: any fixed uuid does, it only has to never change.
NAMESPACE = uuid.UUID("5b0e3c1e-6a0f-4d5e-9a57-6c1a6f7e0b42")

# Scalars keep their JSON type; anything else (objects, arrays, unions of types) is kept as its
# JSON text, so bronze holds what was delivered and silver decides how to read it. A ``date-time``
# string stays a string: parsing it is silver's job, where a bad one is quarantined with a reason.
ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}
JSON_TEXT = pa.string()
JSON_MARK = {"airbyte_type": "json"}
EXTRACTED_AT = pa.timestamp("us", tz="UTC")


def arrow_schema(json_schema: Mapping[str, Any]) -> pa.Schema:
    """The part files' columns: the stream's top-level properties, then the two Airbyte columns."""
    fields = []
    for name, prop in (json_schema.get("properties") or {}).items():
        declared = prop.get("type", [])
        types = [t for t in ([declared] if isinstance(declared, str) else declared) if t != "null"]
        scalar = ARROW_TYPES.get(types[0]) if len(types) == 1 else None
        if scalar is None:  # marked in the file's schema, so a reader knows to parse it as JSON
            fields.append(pa.field(name, JSON_TEXT, metadata=JSON_MARK))
        else:
            fields.append(pa.field(name, scalar))
    fields += [
        pa.field("_airbyte_raw_id", pa.string()),
        pa.field("_airbyte_extracted_at", EXTRACTED_AT),
    ]
    return pa.schema(fields)


class PartFiles:
    """Buffers one stream's records and lands them ``batch_size`` at a time as part files."""

    def __init__(
        self, partition: Path, schema: pa.Schema, file_format: str, batch_size: int
    ) -> None:
        self.partition = partition
        self.schema = schema
        self.format = file_format
        self.batch_size = batch_size
        self.files_landed = 0
        self._rows: list[dict[str, Any]] = []
        self._fields = [f.name for f in schema if not f.name.startswith("_airbyte_")]
        self._json_fields = {
            f.name for f in schema if f.metadata and f.metadata.get(b"airbyte_type") == b"json"
        }
        self._stream = partition.parent.name

    def add(self, data: Mapping[str, Any], emitted_at: int) -> None:
        """Buffer a record (fields outside the schema are dropped, as in any typed destination)."""
        row = {name: self._value(name, data.get(name)) for name in self._fields}
        delivered = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
        row["_airbyte_raw_id"] = str(
            uuid.uuid5(NAMESPACE, f"{self._stream}/{emitted_at}/{delivered}")
        )
        row["_airbyte_extracted_at"] = emitted_at
        self._rows.append(row)
        if len(self._rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Land the buffered records as one part file, durably, before returning."""
        if not self._rows:
            return
        self.partition.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid5(
            NAMESPACE, self.schema.to_string() + "".join(r["_airbyte_raw_id"] for r in self._rows)
        )
        final = self.partition / f"part-{name}.{self.format}"
        temporary = self.partition / f".part-{name}.{uuid.uuid4().hex}.tmp"
        with temporary.open("wb") as file:
            if self.format == "parquet":
                pq.write_table(self._arrow_table(), file)
            else:
                file.writelines(self._json_lines())
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, final)  # unlike rename, never replaces a file that has landed
        except FileExistsError:
            pass  # the same batch landed before (a replayed input): the file is already there
        finally:
            temporary.unlink()
        _fsync_directory(self.partition)
        self.files_landed += 1
        self._rows = []

    def _value(self, name: str, value: Any) -> Any:
        if name in self._json_fields and value is not None:
            return orjson.dumps(value).decode()
        return value

    def _arrow_table(self) -> pa.Table:
        columns = {f.name: [row[f.name] for row in self._rows] for f in self.schema}
        columns["_airbyte_extracted_at"] = [
            dt.datetime.fromtimestamp(ms / 1000, dt.UTC) for ms in columns["_airbyte_extracted_at"]
        ]
        return pa.table(columns, schema=self.schema)

    def _json_lines(self) -> list[bytes]:
        lines = []
        for row in self._rows:
            extracted = dt.datetime.fromtimestamp(row["_airbyte_extracted_at"] / 1000, dt.UTC)
            line = {**row, "_airbyte_extracted_at": extracted.isoformat()}
            lines.append(orjson.dumps(line) + b"\n")
        return lines


def _fsync_directory(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable: the entry lives in the directory's data."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
