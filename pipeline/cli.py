"""``pipeline``: the command line of the project.

``pipeline run`` runs everything through Airflow (what ``make run`` does). The other commands
run one step alone, calling the same step functions as the DAG's tasks.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, date, datetime
from typing import Annotated

import orjson
import typer
from rich.console import Console

app = typer.Typer(
    help="Run the campaign pipeline, or one of its steps.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

Scale = Annotated[
    int | None, typer.Option(help="People in the mock's world (env MOCK_SCALE).", min=10)
]
Seed = Annotated[int | None, typer.Option(help="Seed of the mock's world (env MOCK_SEED).")]
RunDate = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Logical date of the run (default: today, UTC)."),
]


def _configure(scale: int | None = None, seed: int | None = None, verbose: bool = False) -> None:
    # Options override the environment, which is where every step reads its configuration.
    if scale is not None:
        os.environ["MOCK_SCALE"] = str(scale)
    if seed is not None:
        os.environ["MOCK_SEED"] = str(seed)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _new_run_id() -> str:
    return "cli__" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def _run_date(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


def _step(name: str, step, **kwargs) -> dict:
    """Run one step from the command line: one-line errors, metrics printed as JSON."""
    from pipeline.steps import run_step

    try:
        with console.status(f"{name}…"):
            metrics = run_step(_new_run_id(), name, step, **kwargs)
    except Exception as error:  # every step error is reported the same way
        console.print(f"[red]error[/red] {name}: {error}")
        raise typer.Exit(1) from None
    sys.stdout.write(orjson.dumps(metrics, default=str, option=orjson.OPT_INDENT_2).decode())
    sys.stdout.write("\n")
    return metrics


@app.command()
def run(
    scale: Scale = None,
    seed: Seed = None,
    logical_date: RunDate = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the whole pipeline through Airflow, with the mock APIs running, then print a summary."""
    _configure(scale, seed, verbose)
    from pipeline import services
    from pipeline.config import get_settings
    from pipeline.report import report_path
    from pipeline.summary import print_summary, summarize

    settings = get_settings()
    run_id = _new_run_id()
    started = time.monotonic()
    try:
        with services.mock_apis(settings):
            console.print(
                f"mock APIs at {settings.mock_url} "
                f"(seed {settings.mock_seed}, scale {settings.mock_scale})"
            )
            with console.status("running the Airflow DAG campaign_pipeline (airflow dags test)…"):
                log_file = services.run_dag(settings, _run_date(logical_date), run_id)
    except services.ServiceError as error:
        console.print(f"[red]error[/red] {error}")
        raise typer.Exit(1) from None
    summary = summarize(settings, run_id)
    summary["seconds"] = round(time.monotonic() - started, 1)
    (settings.runs_dir / f"{run_id}.summary.json").write_bytes(
        orjson.dumps(summary, default=str, option=orjson.OPT_INDENT_2)
    )
    print_summary(summary, Console())
    report = report_path(settings, run_id)
    console.print(
        f"[green]done[/green] in {summary['seconds']}s; warehouse {settings.warehouse_path}, "
        f"lake {settings.lake_root}, report {report}, Airflow log {log_file}"
    )


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI (on 127.0.0.1).")] = 8080,
    scale: Scale = None,
    seed: Seed = None,
) -> None:
    """Serve the Airflow UI (standalone) with the mock APIs running, until Ctrl-C."""
    _configure(scale, seed)
    import signal
    import subprocess

    from pipeline import services
    from pipeline.config import get_settings

    settings = get_settings()
    log_file = settings.data_dir / "logs" / "airflow-standalone.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with services.mock_apis(settings), log_file.open("ab") as output:
            services.prepare_airflow(settings, output)
            console.print(f"mock APIs at {settings.mock_url}")
            console.print(
                f"Airflow UI at [bold]http://127.0.0.1:{port}[/bold]: user admin, password in "
                f"{settings.airflow_home / 'passwords.json'} (generated on first start); "
                f"log {log_file}. Ctrl-C stops everything."
            )
            # Its own process group, so that stopping it stops every Airflow component it started.
            airflow = subprocess.Popen(
                services.airflow_command("standalone"),
                env=services.ui_env(settings, port),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            # SIGTERM (a service manager, `kill`) stops the stack like Ctrl-C does.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            try:
                airflow.wait()
            except KeyboardInterrupt:
                os.killpg(airflow.pid, signal.SIGTERM)
                airflow.wait(timeout=60)
    except services.ServiceError as error:
        console.print(f"[red]error[/red] {error}")
        raise typer.Exit(1) from None


@app.command()
def sync(
    connection: Annotated[
        str, typer.Argument(help="mailchimp, hubspot (into DuckDB) or mailchimp_events (the lake)")
    ],
    run_date: RunDate = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run one Airbyte connection: extract a source and load it (the mock APIs must be running)."""
    _configure(verbose=verbose)
    from pipeline.steps import extract_load

    _step(
        f"extract_load_{connection}",
        extract_load,
        connection=connection,
        run_date=_run_date(run_date),
    )


@app.command()
def lake(run_date: RunDate = None) -> None:
    """Build the lake's silver and gold tables from bronze with the Spark jobs."""
    _configure()
    from pipeline.steps import build_lake

    _step("build_lake", build_lake, run_date=_run_date(run_date))


@app.command()
def transform() -> None:
    """Build the warehouse with dbt (staging, intermediate, marts, tests)."""
    _configure()
    from pipeline.steps import build_warehouse

    _step("build_warehouse", build_warehouse)


@app.command()
def check(
    layer: Annotated[str, typer.Argument(help="all, raw, lake or marts")] = "all",
    junit: Annotated[
        str | None, typer.Option(help="JUnit XML path (default data/quality/junit.xml)")
    ] = None,
) -> None:
    """Run the data-quality checks on the existing warehouse and lake; non-zero exit on failure.

    `check all` is the command for CI systems: every suite, a JUnit XML report (one test case per
    expectation) and a short text summary beside it.
    """
    _configure()
    from pipeline import steps
    from pipeline.config import get_settings

    layers = {"raw": steps.check_raw, "lake": steps.check_lake, "marts": steps.check_marts}
    if layer != "all" and layer not in layers:
        console.print(f"[red]error[/red] layer must be all, raw, lake or marts, not {layer!r}")
        raise typer.Exit(2)
    if layer != "all":
        _step(f"check_{layer}", layers[layer])
        return
    from pathlib import Path

    from quality.ci import run_all

    settings = get_settings()
    junit_path = Path(junit) if junit else settings.quality_dir / "junit.xml"
    summary_path = junit_path.with_name("summary.txt")
    with console.status("running every quality suite…"):
        passed = run_all(
            settings.warehouse_path,
            settings.lake_root,
            settings.quality_dir,
            junit_path,
            summary_path,
        )
    sys.stdout.write(summary_path.read_text())
    console.print(f"JUnit XML: {junit_path}; summary: {summary_path}")
    if not passed:
        raise typer.Exit(1)


@app.command()
def report(
    run_id: Annotated[
        str | None, typer.Option(help="The run to report on (default: the latest run).")
    ] = None,
) -> None:
    """Write the self-contained HTML report of a run (data/reports/)."""
    _configure()
    from pipeline.config import get_settings
    from pipeline.report import write_report
    from pipeline.runlog import latest_run_id

    settings = get_settings()
    run_id = run_id or latest_run_id(settings.runs_dir)
    if run_id is None:
        console.print(f"[red]error[/red] no run recorded in {settings.runs_dir}: run one first")
        raise typer.Exit(1)
    console.print(write_report(settings, run_id)["report"])


@app.command()
def summary() -> None:
    """Print the rows per table of the warehouse."""
    _configure()
    from pipeline.config import get_settings
    from pipeline.summary import print_summary, summarize

    print_summary(summarize(get_settings(), run_id="(tables only)"), Console())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
