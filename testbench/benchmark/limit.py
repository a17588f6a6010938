"""The limit: DuckDB's own ``read_json`` landing the same members from JSON lines into a table.

No HTTP, no Python per record: what the hardware does with these bytes when the whole load is
DuckDB's C++. The JSON lines are the members as served (written by the warm-up pass).

    python -m testbench.benchmark.limit --jsonl members.jsonl --database limit.duckdb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from testbench.benchmark.measure import emit


def land(jsonl: Path, database: Path) -> int:
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        con.execute(
            "CREATE TABLE list_members AS SELECT * FROM read_json(?, format = 'newline_delimited')",
            [str(jsonl)],
        )
        return con.execute("SELECT count(*) FROM list_members").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jsonl", required=True, type=Path)
    parser.add_argument("--database", required=True, type=Path)
    args = parser.parse_args(argv)
    emit({"records": land(args.jsonl, args.database)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
