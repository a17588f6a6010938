"""The closing table: scenarios tried, survived, failed loud, records lost, duplicates, secrets."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from testbench.chaos.runner import Outcome


def totals(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "tried": len(outcomes),
        "survived": sum(o.status == "survived" for o in outcomes),
        "failed_loud": sum(o.status == "failed-loud" for o in outcomes),
        "failed": sum(not o.ok for o in outcomes),
        "lost": sum(o.lost for o in outcomes),
        "duplicates": sum(o.duplicates for o in outcomes),
        "secrets": sum(o.secrets for o in outcomes),
    }


def render(outcomes: list[Outcome], console: Console | None = None) -> dict[str, int]:
    """Print one row per scenario, then the totals; return the totals."""
    console = console or Console()
    rows = Table(title="Chaos scenarios", show_lines=False)
    for column in ("scenario", "outcome", "lost", "dups", "secrets", "s", "detail"):
        rows.add_column(column, overflow="fold")
    style = {"survived": "green", "failed-loud": "yellow"}
    for o in outcomes:
        rows.add_row(
            o.name,
            f"[{style.get(o.status, 'bold red')}]{o.status}[/]",
            str(o.lost),
            str(o.duplicates),
            str(o.secrets),
            f"{o.seconds:.0f}",
            o.detail,
        )
    console.print(rows)
    total = totals(outcomes)
    summary = Table(title="Summary")
    for column in (
        "tried",
        "survived",
        "failed-loud",
        "FAILED",
        "records lost",
        "duplicates",
        "secrets found",
    ):
        summary.add_column(column, justify="right")
    summary.add_row(
        *(
            str(total[k])
            for k in ("tried", "survived", "failed_loud", "failed", "lost", "duplicates", "secrets")
        )
    )
    console.print(summary)
    return total
