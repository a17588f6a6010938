"""The end-of-run summary: rows per table and time per step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pipeline.config import Settings
from pipeline.runlog import read_steps


def table_counts(warehouse_path: Path) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table and view of the warehouse, raw first."""
    import duckdb

    if not warehouse_path.exists():
        return []
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        tables = connection.execute(
            """
            select table_schema, table_name
            from information_schema.tables
            where table_catalog = current_database() and table_schema <> 'information_schema'
            order by table_schema like 'raw%' desc, table_schema, table_name
            """
        ).fetchall()
        count = 'select count(*) from "{}"."{}"'
        return [
            (schema, table, connection.execute(count.format(schema, table)).fetchone()[0])
            for schema, table in tables
        ]


def summarize(settings: Settings, run_id: str) -> dict[str, Any]:
    steps = read_steps(settings.runs_dir, run_id)
    return {
        "run_id": run_id,
        "steps": [
            {"step": s["step"], "status": s["status"], "seconds": s["seconds"]} for s in steps
        ],
        "tables": [
            {"table": f"{schema}.{table}", "rows": rows}
            for schema, table, rows in table_counts(settings.warehouse_path)
        ],
    }


def print_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    steps = Table(title=f"Steps of run {summary['run_id']}")
    steps.add_column("step")
    steps.add_column("status")
    steps.add_column("seconds", justify="right")
    for step in summary["steps"]:
        steps.add_row(step["step"], step["status"], f"{step['seconds']:.1f}")
    tables = Table(title="Rows per table")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for table in summary["tables"]:
        tables.add_row(table["table"], f"{table['rows']:,}")
    console.print(steps)
    console.print(tables)
