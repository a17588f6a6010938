"""From a stream's JSON schema to typed columns, and from buffered records to an Arrow batch.

The conversion is column by column (one list comprehension and one ``pyarrow.array`` call per
column), not record by record: it is the part of the load that runs in Python, so it decides the
throughput. A value that does not fit its column becomes NULL and is reported in
``_airbyte_meta.changes`` rather than failing the load, as Airbyte's own destinations do.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from destination_duckdb.identifiers import unique_column_names

SQL_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "json": "JSON",
}
# The Arrow type a column is staged as. Timestamps are staged as text and parsed by DuckDB, which
# is much faster than parsing in Python; JSON is staged as its text.
ARROW_TYPES = {
    "string": pa.string(),
    "timestamp": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "json": pa.string(),
}
CHANGE_TYPE = pa.list_(
    pa.struct([("field", pa.string()), ("change", pa.string()), ("reason", pa.string())])
)
TYPECAST_ERROR = "DESTINATION_TYPECAST_ERROR"

Changes = dict[int, list[dict[str, str]]]


@dataclass(frozen=True)
class Column:
    """A top-level field of the stream (``field``) and the column it lands in (``name``)."""

    field: str
    name: str
    kind: str

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


def column_kind(property_schema: Mapping[str, Any]) -> str:
    """The column kind of a JSON-schema property; anything not a single scalar type is JSON."""
    declared = property_schema.get("type", [])
    types = [declared] if isinstance(declared, str) else list(declared)
    non_null = [t for t in types if t != "null"]
    if len(non_null) != 1:
        return "json"
    if non_null[0] == "string":
        return "timestamp" if property_schema.get("format") == "date-time" else "string"
    return non_null[0] if non_null[0] in ("integer", "number", "boolean") else "json"


def columns_from_schema(json_schema: Mapping[str, Any]) -> list[Column]:
    properties: Mapping[str, Any] = json_schema.get("properties") or {}
    fields = list(properties)
    return [
        Column(field=field, name=name, kind=column_kind(properties[field]))
        for field, name in zip(fields, unique_column_names(fields), strict=True)
    ]


def to_arrow(
    columns: Sequence[Column], records: Sequence[Mapping[str, Any]], emitted_at: Sequence[int]
) -> pa.Table:
    """Stage a batch as Arrow: ``c0..cN`` in column order, ``_ab_extracted_at``, ``_ab_changes``."""
    changes: Changes = {}
    arrays = [_column_array(col, [r.get(col.field) for r in records], changes) for col in columns]
    arrays.append(pa.array(emitted_at, pa.timestamp("ms", tz="UTC")))
    arrays.append(pa.array([changes.get(row) for row in range(len(records))], CHANGE_TYPE))
    names = [f"c{i}" for i in range(len(columns))] + ["_ab_extracted_at", "_ab_changes"]
    return pa.Table.from_arrays(arrays, names=names)


def _column_array(column: Column, values: list[Any], changes: Changes) -> pa.Array:
    arrow_type = ARROW_TYPES[column.kind]
    if column.kind == "json":
        return pa.array([None if v is None else _json_text(v) for v in values], arrow_type)
    if column.kind != "timestamp":
        # The fast path, when every value already has the right Python type. pyarrow infers the
        # type instead of being given it, because given int64 it would silently truncate 1.5.
        try:
            inferred = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            inferred = None
        # ...and it would read [1.5, True] as doubles: a bool in a number column is checked here.
        bool_in_number = column.kind == "number" and any(type(v) is bool for v in values)
        if inferred is not None and inferred.type in _FITS[column.kind] and not bool_in_number:
            return inferred.cast(arrow_type)
    return pa.array([_coerce(column, row, v, changes) for row, v in enumerate(values)], arrow_type)


# Inferred Arrow types that convert losslessly to each column kind (null: all values None).
_FITS = {
    "string": {pa.string(), pa.null()},
    "integer": {pa.int64(), pa.null()},
    "number": {pa.float64(), pa.int64(), pa.null()},
    "boolean": {pa.bool_(), pa.null()},
}


def _coerce(column: Column, row: int, value: Any, changes: Changes) -> Any:
    """The value as the column's type, or None with a change entry when it cannot be."""
    if value is None:
        return None
    kind = column.kind
    if kind == "string":
        return value if isinstance(value, str) else _json_text(value)  # lossless, so no change
    if kind == "timestamp" and isinstance(value, str):
        return value  # parsed by DuckDB, which reports what it cannot parse
    if kind == "integer" and type(value) is int and -(2**63) <= value < 2**63:
        return value
    if kind == "integer" and type(value) is float and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if kind == "number" and type(value) in (int, float):
        return float(value)
    if kind == "boolean" and type(value) is bool:
        return value
    changes.setdefault(row, []).append(
        {"field": column.field, "change": "NULLED", "reason": TYPECAST_ERROR}
    )
    return None


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
