"""The benchmark's outputs: the targets as ratios, a terminal table, a plot, docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import psutil

# Targets, as ratios measured in one run (the machine is shared and noisy): issue 8's rate and
# Spark ratio; issue 18's flatness, floor, peers, incremental share and memory.
TARGET_RECORDS_PER_S = 50_000
PEER_RATIOS = {"dlt": 6.0, "pyairbyte": 4.0, "cdk_simple": 4.0}
FLAT_SHARE = 0.9  # ours' marginal rate at the largest interval / at the one before it
FLOOR_SHARE = 0.6  # ours / the fetch floor
FLOOR = "floor_requests_orjson"
INCREMENTAL_SHARE = 0.05
PEAK_RSS_MB = 1024  # a sync's peak at the largest scale
STAGE_PEAK_RSS_MB = 1536  # any pipeline stage's
SPARK_VS_DUCKDB = 2.0
LAKE_DAILY_SHARE = 0.10  # the lake's daily incremental run / its full rebuild of the same history
DOCS_BEGIN, DOCS_END = "<!-- bench:results -->", "<!-- /bench:results -->"


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def marginal_rates(results: dict[str, Any], upper: int = -1) -> dict[str, dict[str, float]]:
    """Per ingestion comparator, records/s between the scale ``upper`` and the one before it
    (by default the two largest scales of the run).

    ``(records_b - records_a) / (wall_b - wall_a)``: the fixed costs (interpreter and library
    imports, a Spark-like start, discover) cancel out, which leaves the rate at which each one
    moves records once running. The same with CPU time instead of wall time (``per_cpu_s``) is
    less disturbed by the other processes of a shared machine.
    """
    scales = results["scales"]
    upper = upper % len(scales) if scales else 0
    if upper < 1:
        return {}
    small, large = scales[upper - 1]["ingestion"], scales[upper]["ingestion"]
    rates: dict[str, dict[str, float]] = {}
    for name, b in large.items():
        a = small.get(name)
        if not a or "error" in a or "error" in b:
            continue
        records = b["records"] - a["records"]
        wall, cpu = b["wall_s"] - a["wall_s"], b["cpu_s"] - a["cpu_s"]
        if records > 0 and wall > 0 and cpu > 0:
            rates[name] = {"per_s": round(records / wall), "per_cpu_s": round(records / cpu)}
    return rates


def fixed_start(results: dict[str, Any], name: str) -> float | None:
    """The wall time a comparator spends whatever the records: the intercept of the line
    through its two largest scales (starting processes, imports, discover)."""
    if len(results["scales"]) < 2:
        return None
    a = results["scales"][-2]["ingestion"].get(name)
    b = results["scales"][-1]["ingestion"].get(name)
    if not a or not b or "error" in a or "error" in b or b["records"] == a["records"]:
        return None
    per_record = (b["wall_s"] - a["wall_s"]) / (b["records"] - a["records"])
    return max(a["wall_s"] - per_record * a["records"], 0.0)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue, judged on the largest scale of the run.

    Rates are the marginal ones (between the two largest scales) when the run has two scales or
    more, else the end-to-end ones of the largest scale.
    """
    if not results["scales"]:
        return []
    largest = results["scales"][-1]
    ingestion = largest.get("ingestion", {})
    ours = ingestion.get("ours")
    checks: list[dict[str, Any]] = []
    marginal = marginal_rates(results)
    results["marginal_rates"] = marginal

    def _rate(row: dict[str, Any] | None, name: str = "") -> float:
        if name in marginal:
            return float(marginal[name]["per_s"])
        return float(row.get("records_per_s") or 0) if row and "error" not in row else 0.0

    def check(name: str, value: float | None, goal: str, met: bool | None) -> None:
        checks.append({"target": name, "value": value, "goal": goal, "met": met})

    ours_rate = _rate(ours, "ours")
    kind = "marginal" if marginal else "end to end"
    check(
        f"ours rec/s ({kind})",
        round(ours_rate),
        f">= {TARGET_RECORDS_PER_S:,}",
        ours_rate >= TARGET_RECORDS_PER_S,
    )
    for peer, ratio in PEER_RATIOS.items():
        peer_rate = _rate(ingestion.get(peer), peer)
        value = round(ours_rate / peer_rate, 2) if peer_rate else None
        check(
            f"ours / {peer} ({kind})",
            value,
            f">= {ratio}",
            None if value is None else value >= ratio,
        )
        if "ours" in marginal and peer in marginal:  # the same per CPU second: steadier
            value = round(marginal["ours"]["per_cpu_s"] / marginal[peer]["per_cpu_s"], 2)
            check(f"ours / {peer} (marginal, per CPU s)", value, f">= {ratio}", value >= ratio)
    # Flat: ours' marginal rate over the largest interval against the interval before it.
    if len(results["scales"]) >= 3:
        before = marginal_rates(results, -2).get("ours")
        if before and "ours" in marginal:
            share = marginal["ours"]["per_s"] / before["per_s"]
            scales = [f"{s['scale']:,}" for s in results["scales"][-3:]]
            check(
                f"ours marginal rate {scales[1]}-{scales[2]} / {scales[0]}-{scales[1]} people",
                round(share, 2),
                f">= {FLAT_SHARE}",
                share >= FLAT_SHARE,
            )
    # Close to the floor: end to end at every scale (start-up included), and marginal over
    # every interval (start-up cancelled).
    for index, scale in enumerate(results["scales"]):
        rows = scale.get("ingestion", {})
        ours_row, floor_row = rows.get("ours"), rows.get(FLOOR)
        if ours_row and floor_row and "error" not in ours_row and "error" not in floor_row:
            share = ours_row["records_per_s"] / floor_row["records_per_s"]
            check(
                f"ours / floor at {scale['scale']:,} people (end to end)",
                round(share, 2),
                f">= {FLOOR_SHARE}",
                share >= FLOOR_SHARE,
            )
        rates = marginal_rates(results, index) if index else {}
        if "ours" in rates and FLOOR in rates:
            share = rates["ours"]["per_s"] / rates[FLOOR]["per_s"]
            lower = results["scales"][index - 1]["scale"]
            check(
                f"ours / floor (marginal, {lower:,}-{scale['scale']:,} people)",
                round(share, 2),
                f">= {FLOOR_SHARE}",
                share >= FLOOR_SHARE,
            )
    incremental = largest.get("incremental")
    if ours and incremental and "error" not in incremental and "error" not in ours:
        share = incremental["wall_s"] / ours["wall_s"]
        check(
            "incremental / full (wall)",
            round(share, 3),
            f"<= {INCREMENTAL_SHARE}",
            share <= INCREMENTAL_SHARE,
        )
        start = fixed_start(results, "ours")
        if start is not None and ours["wall_s"] > start:
            share = max(incremental["wall_s"] - start, 0.0) / (ours["wall_s"] - start)
            check(
                f"incremental / full, after the fixed start ({start:.0f} s)",
                round(share, 3),
                f"<= {INCREMENTAL_SHARE}",
                share <= INCREMENTAL_SHARE,
            )
    # Memory: the target is a sync's at the largest scale (a bounded buffer, whatever the
    # number of members); the stages' peaks, which may run at the smaller scales only, are
    # reported apart (Spark's is the driver heap it is configured with, SPARK_DRIVER_MEMORY).
    if ours and "error" not in ours:
        check(
            f"peak RSS of ours at {largest['scale']:,} people (MB)",
            ours["peak_rss_mb"],
            f"< {PEAK_RSS_MB}",
            ours["peak_rss_mb"] < PEAK_RSS_MB,
        )
    peaks = [
        row["peak_rss_mb"]
        for scale in results["scales"]
        for row in scale.get("stages", {}).values()
        if "error" not in row
    ]
    if peaks:
        check(
            "peak RSS of every pipeline stage, any scale (MB)",
            max(peaks),
            f"< {STAGE_PEAK_RSS_MB}",
            max(peaks) < STAGE_PEAK_RSS_MB,
        )
    # The largest scale at which the lake was compared.
    lake = next((s["lake"] for s in reversed(results["scales"]) if s.get("lake")), {})
    spark, duck = lake.get("spark"), lake.get("duckdb")
    if spark and duck and "error" not in spark and "error" not in duck:
        ratio = spark["detail"]["jobs_s"] / duck["wall_s"]
        check(
            "Spark jobs (after start) / DuckDB",
            round(ratio, 2),
            f"<= {SPARK_VS_DUCKDB}",
            ratio <= SPARK_VS_DUCKDB,
        )
    if spark and "error" not in spark and "incremental_s" in spark["detail"]:
        detail = spark["detail"]
        share = detail["incremental_s"] / detail["jobs_s"]
        check(
            "lake: daily incremental run / full rebuild (same tables)",
            round(share, 3),
            f"<= {LAKE_DAILY_SHARE}",
            share <= LAKE_DAILY_SHARE and detail["same_counts"],
        )
    return checks


def _rows(scale: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    rows = [("ingestion", name, row) for name, row in scale.get("ingestion", {}).items()]
    if scale.get("incremental"):
        rows.append(("ingestion", "ours_incremental (1 day)", scale["incremental"]))
    rows += [("pipeline", name, row) for name, row in scale.get("stages", {}).items()]
    stages = [row for row in scale.get("stages", {}).values() if "error" not in row]
    if stages:
        whole = {
            "records": stages[0]["records"] if stages else 0,
            "wall_s": round(sum(row["wall_s"] for row in stages), 2),
            "peak_rss_mb": max(row["peak_rss_mb"] for row in stages),
            "cpu_s": round(sum(row["cpu_s"] for row in stages), 2),
        }
        whole["records"] = sum(
            scale["stages"].get(s, {}).get("records", 0)
            for s in scale["stages"]
            if s.startswith("ingest")
        )
        whole["records_per_s"] = round(whole["records"] / whole["wall_s"], 1)
        rows.append(("pipeline", "whole run (sum of stages)", whole))
    for name, row in scale.get("lake", {}).items():
        rows.append(("lake", name, row))
    return rows


def print_tables(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a log file or a pipe: no 80-column default
        console = Console(width=150)
    for scale in results["scales"]:
        table = Table(title=f"scale {scale['scale']:,} (people)")
        for column in (
            "group",
            "what",
            "records",
            "wall s",
            "rec/s",
            "peak RSS MB",
            "CPU s",
            "replay CPU s",
        ):
            table.add_column(column, justify="left" if column in ("group", "what") else "right")
        for group, name, row in _rows(scale):
            if "error" in row:
                table.add_row(group, name, "failed", "", "", "", "", "")
                continue
            table.add_row(
                group,
                name,
                f"{row['records']:,}",
                f"{row['wall_s']:.1f}",
                f"{row['records_per_s']:,.0f}",
                f"{row['peak_rss_mb']:,.0f}",
                f"{row.get('cpu_s', 0):.1f}",
                f"{row.get('replay_cpu_s', '')}",
            )
        console.print(table)
    table = Table(title="targets (largest scale of this run)")
    for column in ("target", "value", "goal", "met"):
        table.add_column(column)
    for check in results.get("targets", []):
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "n/a"}[check["met"]]
        table.add_row(check["target"], str(check["value"]), check["goal"], met)
    console.print(table)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (throughput, memory) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = sorted({n for s in results["scales"] for n in s.get("ingestion", {})})
    for name in names:
        points = [
            (s["scale"], s["ingestion"][name])
            for s in results["scales"]
            if name in s.get("ingestion", {}) and "error" not in s["ingestion"][name]
        ]
        if not points:
            continue
        xs = [p[0] for p in points]
        throughput.plot(xs, [p[1]["records_per_s"] for p in points], marker="o", label=name)
        memory.plot(xs, [p[1]["peak_rss_mb"] for p in points], marker="o", label=name)
    for axis, label in (
        (throughput, "records/s (members)"),
        (memory, "peak RSS of the process tree (MB)"),
    ):
        axis.set_xscale("log")
        axis.set_xlabel("scale (people in the mock)")
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
    throughput.set_yscale("log")
    throughput.axhline(TARGET_RECORDS_PER_S, color="grey", linestyle="--", linewidth=1)
    throughput.legend(fontsize=8)
    fig.suptitle("Ingestion of the MailChimp members: throughput and memory against scale")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run of {results['started_at']} (total {results.get('wall_s', 0):.0f} s) on {m['cpu']}, "
        f"{m['cores']} cores, {m['memory_gb']} GB, {m['system']}, Python {m['python']}; "
        f"load average at start {m['load_average_at_start']} (the machine is shared).",
        "",
    ]
    for scale in results["scales"]:
        lines += [
            f"### Scale {scale['scale']:,} people",
            "",
            "| group | what | records | wall s | rec/s | peak RSS MB | CPU s |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for group, name, row in _rows(scale):
            if "error" in row:
                lines.append(f"| {group} | {name} | failed | | | | |")
                continue
            lines.append(
                f"| {group} | {name} | {row['records']:,} | {row['wall_s']:.1f} | "
                f"{row['records_per_s']:,.0f} | {row['peak_rss_mb']:,.0f} | "
                f"{row.get('cpu_s', 0):.1f} |"
            )
        warm = scale.get("warm_up")
        if warm and "error" not in warm:
            lines += [
                "",
                f"The mock computing the members' pages once (warm-up): {warm['wall_s']:.1f} s, "
                f"mock CPU {warm.get('mock_cpu_s', 0):.1f} s; the timed runs were served from the "
                "replay cache (replay CPU per run in results.json).",
            ]
        lake = scale.get("lake", {}).get("spark")
        if lake and "error" not in lake:
            lines += [
                "",
                f"Spark: session start {lake['detail']['session_s']:.1f} s, jobs "
                f"{lake['detail']['jobs_s']:.1f} s, process {lake['wall_s']:.1f} s.",
            ]
            detail = lake["detail"]
            if "incremental_s" in detail:
                lines.append(
                    f"The lake's full rebuild ({lake['records']:,} bronze rows) took "
                    f"{detail['jobs_s']:.1f} s; the daily incremental run, merging the ingestion "
                    f"of {detail['new_day']} ({detail['incremental_rows_read']:,} rows) into a "
                    f"lake built from the days before, {detail['incremental_s']:.1f} s "
                    f"({detail['incremental_s'] / detail['jobs_s']:.1%} of the full rebuild); "
                    "the two lakes' tables hold "
                    + ("the same row counts." if detail["same_counts"] else "DIFFERENT row counts.")
                )
        lines.append("")
    scales = results["scales"]
    for upper in range(len(scales) - 1, 0, -1):  # the largest interval first
        marginal = marginal_rates(results, upper)
        if not marginal:
            continue
        lower_scale, upper_scale = scales[upper - 1]["scale"], scales[upper]["scale"]
        lines += [
            f"### Marginal ingestion rates, {lower_scale:,} to {upper_scale:,} people "
            "(fixed costs cancel)",
            "",
            "| comparator | rec/s (wall) | rec per CPU s |",
            "|---|---:|---:|",
            *(f"| {n} | {r['per_s']:,} | {r['per_cpu_s']:,} |" for n, r in marginal.items()),
            "",
        ]
    lines += [
        "### Targets (largest scale)",
        "",
        "| target | value | goal | met |",
        "|---|---:|---|---|",
    ]
    for check in results.get("targets", []):
        met = {True: "yes", False: "**no**", None: "n/a"}[check["met"]]
        lines.append(f"| {check['target']} | {check['value']} | {check['goal']} | {met} |")
    return "\n".join(lines) + "\n"


def write_docs(results: dict[str, Any], docs: Path, out: Path) -> None:
    """Replace the generated block of docs/benchmarks.md (the text around it is kept)."""
    block = f"{DOCS_BEGIN}\n{markdown(results)}{DOCS_END}"
    text = docs.read_text() if docs.exists() else f"# Benchmarks\n\n{DOCS_BEGIN}\n{DOCS_END}\n"
    if DOCS_BEGIN not in text:
        text += f"\n{DOCS_BEGIN}\n{DOCS_END}\n"
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    docs.write_text(head + block + tail)
