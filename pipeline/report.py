"""The run report: one self-contained HTML file per run, readable offline in any browser.

It shows the flow of the run (each step's status, time and what it produced), the data-quality
results, the rows per table, and charts of the business answer. Charts are drawn with matplotlib
and inlined as SVG, and the styles are inline too, so the file needs no server and no network:
it can be mailed, attached to a CI run, or opened from a USB stick in front of a class.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from pipeline.config import Settings
from pipeline.runlog import log_path, read_steps
from pipeline.summary import table_counts

BAR = "#2f6f9f"  # one colour per meaning, used by every chart
ACCENT = "#e07b39"


def _query(warehouse: Path, sql: str) -> list[dict[str, Any]] | None:
    """Rows of a query on the warehouse, or None when a table it reads was not built."""
    import duckdb

    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        try:
            cursor = connection.execute(sql)
        except duckdb.CatalogException:
            return None
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prolog: the SVG is inlined in HTML


def _figure(width: float = 8.0, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(width, height))
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _shorten(label: str, width: int = 32) -> str:
    """Keep a label's end (a campaign title's distinctive part), marking what was cut."""
    return label if len(label) <= width else "…" + label[-(width - 1) :]


def campaign_charts(warehouse: Path) -> dict[str, str]:
    """Charts of campaign performance and attributed revenue (empty when the mart is missing)."""
    rows = _query(
        warehouse,
        """
        select campaign_title, sent_at, unique_open_rate, unique_click_rate, won_revenue
        from marts.campaign_performance
        order by sent_at
        """,
    )
    if not rows:
        return {}
    charts = {}
    figure, axes = _figure()
    sent = [row["sent_at"] for row in rows]
    axes.plot(sent, [row["unique_open_rate"] for row in rows], color=BAR, label="unique open rate")
    axes.plot(
        sent, [row["unique_click_rate"] for row in rows], color=ACCENT, label="unique click rate"
    )
    axes.set_ylabel("share of recipients")
    axes.set_ylim(0, 1)
    axes.legend(frameon=False)
    axes.set_title("Engagement of each sent campaign, by send date")
    figure.autofmt_xdate()
    charts["engagement"] = _svg(figure)

    top = sorted(rows, key=lambda row: row["won_revenue"], reverse=True)[:10]
    figure, axes = _figure(height=4.0)
    labels = [_shorten(row["campaign_title"]) for row in top][::-1]
    axes.barh(labels, [float(row["won_revenue"]) for row in top][::-1], color=BAR)
    axes.set_xlabel("won revenue attributed (currency units)")
    axes.set_title("Campaigns that brought the most revenue")
    charts["revenue"] = _svg(figure)
    return charts


def funnel_chart(warehouse: Path) -> str | None:
    rows = _query(
        warehouse,
        """
        select lifecycle_stage, sum(contacts_reached_stage) as people
        from marts.lifecycle_funnel
        group by lifecycle_stage, stage_order
        order by stage_order
        """,
    )
    if not rows:
        return None
    figure, axes = _figure()
    axes.bar([row["lifecycle_stage"] for row in rows], [row["people"] for row in rows], color=BAR)
    axes.set_ylabel("people")
    axes.set_title("Lifecycle funnel: contacts who reached each stage")
    figure.autofmt_xdate()
    return _svg(figure)


def return_on_spend_chart(warehouse: Path) -> str | None:
    """Revenue per dollar spent, per month of sending (spend: the marketing spreadsheet)."""
    rows = _query(
        warehouse,
        """
        select sent_month, spend_usd, won_revenue, coalesce(return_on_spend, 0) as return_on_spend
        from marts.monthly_return_on_spend
        order by sent_month
        """,
    )
    if not rows:
        return None
    figure, axes = _figure()
    months = [row["sent_month"] for row in rows]
    axes.bar(months, [row["return_on_spend"] for row in rows], width=20, color=BAR)
    axes.axhline(1.0, color=ACCENT, linewidth=1.2, label="break-even (revenue = spend)")
    axes.set_ylabel("won revenue per dollar spent")
    axes.legend(frameon=False)
    axes.set_title("Return on spend of the campaigns sent each month")
    figure.autofmt_xdate()
    return _svg(figure)


def audience_chart(warehouse: Path) -> str | None:
    rows = _query(
        warehouse,
        """
        select
            activity_month as month,
            sum(new_members) as new_members,
            sum(churned_members) as churned_members
        from marts.audience_health
        group by activity_month
        order by activity_month
        """,
    )
    if not rows:
        return None
    figure, axes = _figure()
    months = [row["month"] for row in rows]
    axes.bar(months, [row["new_members"] for row in rows], width=20, color=BAR, label="new")
    axes.bar(
        months,
        [-row["churned_members"] for row in rows],
        width=20,
        color=ACCENT,
        label="churned",
    )
    axes.axhline(0, color="#444", linewidth=0.8)
    axes.legend(frameon=False)
    axes.set_title("Audience health: members gained and lost per month")
    figure.autofmt_xdate()
    return _svg(figure)


def _quality(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data-quality steps of the run, with each checked table's statistics."""
    checks = []
    for step in steps:
        if not step["step"].startswith("check_"):
            continue
        statistics = step["metrics"].get("statistics") or {}
        checks.append(
            {
                "step": step["step"],
                "status": step["status"],
                "tables": [
                    {"table": table, **(stats if isinstance(stats, dict) else {"value": stats})}
                    for table, stats in statistics.items()
                ],
            }
        )
    return checks


def _lake(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each lake table's version, its merges' row counts and its files, from this run's steps."""
    metrics = {step["step"]: step["metrics"] for step in steps if step["status"] == "success"}
    built = (metrics.get("build_lake") or {}).get("tables") or {}
    maintained = (metrics.get("maintain_lake") or {}).get("tables") or {}
    rows = []
    for table in sorted(built.keys() | maintained.keys()):
        merged, files = built.get(table, {}), maintained.get(table, {})
        rows.append(
            {
                "table": table,
                "version": files.get("version", merged.get("version")),
                "operation": merged.get("operation", ""),
                **{k: merged.get(k, 0) for k in ("inserted", "updated", "deleted")},
                "files_before": files.get("files_before", ""),
                "files_after": files.get("files_after", ""),
            }
        )
    return rows


def _headline(metrics: dict[str, Any]) -> str:
    """One line of what a step produced, from its metrics."""
    for key in ("records", "rows", "rows_written"):
        if key in metrics:
            return f"{metrics[key]:,} {key.replace('_', ' ')}"
    if "success" in metrics:
        return "all expectations met" if metrics["success"] else "expectations failed"
    return ""


def render_report(settings: Settings, run_id: str) -> str:
    """The report's HTML for one run."""
    steps = read_steps(settings.runs_dir, run_id)
    for step in steps:
        step["headline"] = _headline(step["metrics"])
    failed = [step["step"] for step in steps if step["status"] != "success"]
    environment = Environment(
        loader=PackageLoader("pipeline", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    charts = campaign_charts(settings.warehouse_path)
    return environment.get_template("report.html.j2").render(
        run_id=run_id,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        status="failed" if failed else "success",
        failed=failed,
        seconds=round(sum(step["seconds"] for step in steps), 1),
        steps=steps,
        quality=_quality(steps),
        lake=_lake(steps),
        tables=table_counts(settings.warehouse_path),
        charts={
            "engagement": charts.get("engagement"),
            "revenue": charts.get("revenue"),
            "return_on_spend": return_on_spend_chart(settings.warehouse_path),
            "funnel": funnel_chart(settings.warehouse_path),
            "audience": audience_chart(settings.warehouse_path),
        },
    )


def report_path(settings: Settings, run_id: str) -> Path:
    """Where a run's report is written: ``data/reports/<run>.html``."""
    name = log_path(settings.runs_dir, run_id).with_suffix(".html").name
    return settings.data_dir / "reports" / name


def write_report(settings: Settings, run_id: str) -> dict[str, Any]:
    """Write the run's report, and a copy as ``data/reports/latest.html``; return where."""
    path = report_path(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = render_report(settings, run_id)
    path.write_text(page, encoding="utf-8")
    (path.parent / "latest.html").write_text(page, encoding="utf-8")
    return {"report": str(path)}
