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


def top_campaigns(warehouse_path: Path, limit: int = 5) -> list[dict[str, Any]]:
    """The business answer in brief: the campaigns that brought the most won revenue."""
    import duckdb

    if not warehouse_path.exists():
        return []
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        found = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'campaign_performance'"
        ).fetchone()[0]
        if not found:
            return []
        cursor = connection.execute(
            """
            select campaign_title, recipients, unique_click_rate, won_deals, won_revenue
            from marts.campaign_performance
            order by won_revenue desc, campaign_id
            limit ?
            """,
            [limit],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
        "top_campaigns": top_campaigns(settings.warehouse_path),
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
    answer = Table(title="Which campaigns bring revenue? (top 5, marts.campaign_performance)")
    answer.add_column("campaign")
    answer.add_column("recipients", justify="right")
    answer.add_column("unique click rate", justify="right")
    answer.add_column("won deals", justify="right")
    answer.add_column("won revenue", justify="right")
    for campaign in summary.get("top_campaigns", []):
        answer.add_row(
            campaign["campaign_title"],
            f"{campaign['recipients']:,}",
            f"{campaign['unique_click_rate']:.1%}",
            str(campaign["won_deals"]),
            f"{campaign['won_revenue']:,.2f}",
        )
    console.print(steps)
    console.print(tables)
    if answer.row_count:
        console.print(answer)
