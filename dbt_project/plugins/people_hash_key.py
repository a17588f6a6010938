"""A dbt-duckdb plugin that gives every dbt connection the key of the people's keyed hash.

``person_key`` (macros/person_key.sql) hashes a normalized email with a secret key, so that the
marts identify people without holding their emails. If the key were written into the SQL, it
would end up in dbt's compiled files, its logs and the warehouse's view definitions. Instead this
plugin sets it on each connection as a DuckDB variable, from the environment, and the SQL only
says ``getvariable('people_hash_key')``.

Declared in profiles.yml (``plugins`` and ``module_paths``).
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

ENV_VAR = "PEOPLE_HASH_KEY"
# The same development default as pipeline/config.py; set PEOPLE_HASH_KEY wherever real people's
# data is loaded.
DEVELOPMENT_KEY = "dev-only-people-hash-key"


class Plugin(BasePlugin):
    """DuckDB variables belong to a client, and dbt runs each model on a cursor of its own."""

    def configure_connection(self, conn) -> None:
        _set_key(conn)

    def configure_cursor(self, cursor) -> None:
        _set_key(cursor)


def _set_key(connection) -> None:
    # A bound parameter: the key appears in no SQL text.
    key = os.environ.get(ENV_VAR, DEVELOPMENT_KEY)
    connection.execute("set variable people_hash_key = ?", [key])
