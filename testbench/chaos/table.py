"""The closing tables: per seed, scenarios tried, survived, failed loud, records lost, duplicates,
secrets; over every seed of a run, the total; and the same in Markdown for docs/reliability.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from testbench.chaos.runner import Outcome
from testbench.chaos.scenarios import promise

COUNTS = ("tried", "survived", "failed_loud", "failed", "lost", "duplicates", "secrets")
HEADERS = ("tried", "survived", "failed-loud", "FAILED", "records lost", "duplicates", "secrets")


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


def render(
    outcomes: list[Outcome], console: Console | None = None, title: str = "Chaos scenarios"
) -> dict[str, int]:
    """Print one row per scenario (with what it promises), then the totals; return the totals."""
    console = console or Console()
    rows = Table(title=title, show_lines=False)
    for column in ("scenario", "promise", "outcome", "lost", "dups", "secrets", "s", "detail"):
        rows.add_column(column, overflow="fold")
    style = {"survived": "green", "failed-loud": "yellow"}
    for o in outcomes:
        rows.add_row(
            o.name,
            promise(o.name),
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


def render_total(runs: dict[int, tuple[list[Outcome], float]], console: Console) -> dict[str, int]:
    """One row per seed (its counts and minutes), then the total of the run; return the total."""
    total = Table(title=f"Total over {len(runs)} seed(s)")
    for column in ("seed", *HEADERS, "minutes"):
        total.add_column(column, justify="right")
    every: list[Outcome] = []
    for seed, (outcomes, seconds) in runs.items():
        counts = totals(outcomes)
        total.add_row(str(seed), *(str(counts[k]) for k in COUNTS), f"{seconds / 60:.1f}")
        every += outcomes
    counts = totals(every)
    minutes = sum(seconds for _, seconds in runs.values()) / 60
    total.add_row("total", *(f"[bold]{counts[k]}[/]" for k in COUNTS), f"{minutes:.1f}")
    console.print(total)
    return counts


DOCS_BEGIN = "<!-- chaos:begin (written by python -m testbench.chaos) -->"
DOCS_END = "<!-- chaos:end -->"


def markdown(
    runs: dict[int, tuple[list[Outcome], float]], command: str, when: str, wall_seconds: float
) -> str:
    """The run in Markdown: the total per seed, then each scenario's outcomes over the seeds."""
    every = [outcome for outcomes, _ in runs.values() for outcome in outcomes]
    counts = totals(every)
    wall = wall_seconds / 60
    lines = [
        f"Last full run: {command}, {when}: {len(runs)} seed(s), {wall:.1f} min wall time.",
        "",
        f"| seed | {' | '.join(HEADERS)} | minutes |",
        "|" + "---:|" * (len(HEADERS) + 2),
    ]
    for seed, (outcomes, seconds) in runs.items():
        seed_counts = totals(outcomes)
        row = " | ".join(str(seed_counts[k]) for k in COUNTS)
        lines.append(f"| {seed} | {row} | {seconds / 60:.1f} |")
    busy = sum(seconds for _, seconds in runs.values()) / 60
    lines.append(f"| **total** | {' | '.join(f'**{counts[k]}**' for k in COUNTS)} | {busy:.1f} |")
    lines += ["", "| scenario | promise | outcomes over the seeds |", "|---|---|---|"]
    names = list(dict.fromkeys(outcome.name for outcome in every))
    for name in names:
        tally = Counter(outcome.status for outcome in every if outcome.name == name)
        said = ", ".join(f"{status} ×{n}" for status, n in sorted(tally.items()))
        lines.append(f"| `{name}` | {promise(name)} | {said} |")
    failed = [(seed, o) for seed, (outs, _) in runs.items() for o in outs if not o.ok]
    if failed:
        lines += ["", "FAILED:", ""]
        lines += [f"- seed {seed}, `{o.name}`: {o.detail}" for seed, o in failed]
    return "\n".join(lines) + "\n"


def write_docs(docs: Path, text: str) -> None:
    """Replace the generated block of docs/reliability.md (the text around it is kept)."""
    block = f"{DOCS_BEGIN}\n{text}{DOCS_END}"
    page = docs.read_text() if docs.exists() else f"# Reliability\n\n{DOCS_BEGIN}\n{DOCS_END}\n"
    if DOCS_BEGIN not in page:
        page += f"\n{DOCS_BEGIN}\n{DOCS_END}\n"
    head, _, rest = page.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    docs.write_text(head + block + tail)
