"""The building blocks of the sources' inline JSON schemas: one definition of each field type.

Types drive the DuckDB column types downstream (``destination_duckdb.columns``), so both sources
spell them the same way: every field nullable, timestamps as date-time strings with Airbyte's
``timestamp_with_timezone``, nested objects and arrays left as JSON.
"""

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": ["null", "string"]}
INTEGER: Schema = {"type": ["null", "integer"]}
BOOLEAN: Schema = {"type": ["null", "boolean"]}
DATE_TIME: Schema = {
    "type": ["null", "string"],
    "format": "date-time",
    "airbyte_type": "timestamp_with_timezone",
}
OBJECT: Schema = {"type": ["null", "object"]}
ARRAY: Schema = {"type": ["null", "array"]}
ID_LIST: Schema = {"type": ["null", "array"], "items": {"type": "string"}}


def object_schema(properties: dict[str, Schema]) -> Schema:
    """A stream's schema: an object of these top-level fields, others allowed."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }


def date_time_fields(schema: Schema) -> tuple[str, ...]:
    """The top-level fields of ``schema`` declared as ``DATE_TIME``."""
    return tuple(name for name, field in schema["properties"].items() if field is DATE_TIME)
