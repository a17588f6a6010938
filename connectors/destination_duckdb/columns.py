"""From a stream's JSON schema to typed columns, and the SQL that types a staged batch.

Records are not typed in Python: a batch is staged as JSON lines and DuckDB's JSON reader (C++)
pulls each top-level field out of them, then one ``SELECT`` casts every field to its column's type.
A value that does not fit its column becomes NULL and is reported in ``_airbyte_meta.changes``
rather than failing the load, as Airbyte's own destinations do. DuckDB's reader alone would convert
too leniently for that (it rounds 1.5 into a BIGINT and reads ``true`` as 1), so numbers and
booleans are staged as JSON and cast here only when their JSON type is the column's.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from destination_duckdb.identifiers import quote_identifier, quote_literal, unique_column_names

SQL_TYPES = {
    "string": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "json": "JSON",
}
# How DuckDB's JSON reader stages each kind: text for strings (a number or an object there becomes
# its JSON text: lossless, so no change) and for timestamps (parsed below); JSON for the rest.
STAGED_TYPES = {
    "string": "VARCHAR",
    "timestamp": "VARCHAR",
    "integer": "JSON",
    "number": "JSON",
    "boolean": "JSON",
    "json": "JSON",
}
TYPECAST_ERROR = "DESTINATION_TYPECAST_ERROR"
# The top-level key the staged line carries the record's emission time in (see StreamWriter).
EMITTED_AT_KEY = "_airbyte_emitted_at_ms"
_BIGINT_LIMIT = "9223372036854775808.0"  # 2**63: a DOUBLE at or beyond it is not a BIGINT


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


def reader_columns(staged_keys: Sequence[str], columns: Sequence[Column]) -> str:
    """The ``columns=`` argument of ``read_json`` for a staged batch of RECORD lines (a SQL
    struct literal): the record's data, each field as it is staged, and its emission time."""
    fields = [
        f"{quote_identifier(key)} {STAGED_TYPES[column.kind]}"
        for key, column in zip(staged_keys, columns, strict=True)
    ]
    data = f"data STRUCT({', '.join(fields)}), " if fields else ""
    return "{'record': " + quote_literal(f"STRUCT({data}emitted_at BIGINT)") + "}"


def typed_select(staged_keys: Sequence[str], columns: Sequence[Column]) -> str:
    """The select list turning staged fields into ``c0..cN`` (typed), ``_ab_extracted_at`` and
    ``_ab_changes`` (the fields nulled because their value did not fit)."""
    selects, changes = [], []
    for i, (key, column) in enumerate(zip(staged_keys, columns, strict=True)):
        staged = quote_identifier(key)
        typed, given = _typed(staged, column.kind)
        selects.append(f"{typed} AS c{i}")
        if given is not None:
            change = (
                f"{{'field': {quote_literal(column.field)}, 'change': 'NULLED', "
                f"'reason': '{TYPECAST_ERROR}'}}"
            )
            changes.append(f"CASE WHEN {given} IS NOT NULL AND {typed} IS NULL THEN {change} END")
    emitted_at = quote_identifier(EMITTED_AT_KEY)
    # Milliseconds since the epoch, exactly (to_timestamp of a fraction would round).
    selects.append(
        f"to_timestamp({emitted_at} // 1000) + to_milliseconds({emitted_at} % 1000) "
        "AS _ab_extracted_at"
    )
    if changes:
        selects.append(
            f"list_filter([{', '.join(changes)}], lambda change: change IS NOT NULL) AS _ab_changes"
        )
    else:
        selects.append("[]::STRUCT(field VARCHAR, change VARCHAR, reason VARCHAR)[] AS _ab_changes")
    return ", ".join(selects)


def _typed(staged: str, kind: str) -> tuple[str, str | None]:
    """The typed value of a staged field, and what was given when a NULL would be a change."""
    if kind in ("string", "json"):
        return staged, None  # every JSON value has a lossless text / JSON form
    if kind == "timestamp":
        given = f"NULLIF({staged}, '')"  # "" is no date, not a bad one
        return f"TRY_CAST({given} AS TIMESTAMPTZ)", given
    json_type = f"json_type({staged})"
    if kind == "boolean":
        return f"CASE WHEN {json_type} = 'BOOLEAN' THEN TRY_CAST({staged} AS BOOLEAN) END", staged
    if kind == "number":
        number = f"{json_type} IN ('BIGINT', 'UBIGINT', 'DOUBLE')"
        return f"CASE WHEN {number} THEN TRY_CAST({staged} AS DOUBLE) END", staged
    # integer: a whole JSON number that fits 64 bits; 2.0 is fine, 1.5 and 2**63 are not.
    as_double = f"TRY_CAST({staged} AS DOUBLE)"
    typed = (
        f"CASE {json_type} WHEN 'BIGINT' THEN TRY_CAST({staged} AS BIGINT) "
        f"WHEN 'UBIGINT' THEN TRY_CAST({staged} AS BIGINT) "
        f"WHEN 'DOUBLE' THEN CASE WHEN {as_double} = trunc({as_double}) "
        f"AND abs({as_double}) < {_BIGINT_LIMIT} THEN {as_double}::BIGINT END END"
    )
    return typed, staged
