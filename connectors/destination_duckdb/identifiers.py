"""SQL quoting for names that come from outside (stream and field names, the configured schema).

Every name is double-quoted, never validated against a pattern: a field may legitimately be called
``order`` or ``e-mail``. DuckDB compares identifiers case-insensitively even when quoted, so two
fields differing only in case get distinct column names.
"""

from collections.abc import Iterable

META_COLUMNS = ("_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta")


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier; a NUL byte cannot be represented, so it is refused."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def unique_column_names(fields: Iterable[str]) -> list[str]:
    """A column name per field: the field's own, suffixed ``_2``, ``_3``... where it would clash
    (case-insensitively) with an earlier field or with the ``_airbyte_*`` meta columns."""
    taken = {name.lower() for name in META_COLUMNS}
    names = []
    for field in fields:
        name, suffix = field, 1
        while name.lower() in taken:
            suffix += 1
            name = f"{field}_{suffix}"
        taken.add(name.lower())
        names.append(name)
    return names
