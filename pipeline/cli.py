"""``pipeline``: the command line of the project.

``pipeline run`` runs everything through Airflow (what ``make run`` does). The other commands
run one step alone, calling the same step functions as the DAG's tasks.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from pipeline.config import ConfigError, Settings, get_settings

app = typer.Typer(
    help="Run the campaign pipeline, or one of its steps.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
log = logging.getLogger("pipeline.cli")
# typer carries its own copy of click: its usage errors are found from the public BadParameter.
UsageError = next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "UsageError")

Scale = Annotated[
    int | None, typer.Option(help="People in the mock's world (env MOCK_SCALE).", min=10)
]
Seed = Annotated[int | None, typer.Option(help="Seed of the mock's world (env MOCK_SEED).")]
RunDate = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Logical date of the run (default: today, UTC)."),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")]


class _JsonLines(logging.Formatter):
    """Structured logs for machines (CI, cron, Airflow): one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _interactive() -> bool:
    """A person at a terminal gets progress bars; anything else gets quiet JSON log lines."""
    return console.is_terminal


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line that says what went wrong and what to fix; the caller raises the result."""
    console.print(f"[red]error[/red]: {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _configure(verbose: bool = False, **options: Any) -> Settings:
    """Set up logging and return the command's configuration: the environment's, read once, with
    the command's options (``mock_scale=...``; None: not given) over it. Every step, service and
    child process of the command is given this one ``Settings``."""
    handler = logging.StreamHandler(sys.stderr)
    if _interactive():
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(_JsonLines())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])
    # Quiet, but each step's start and end is worth a line in a machine's log (a person at a
    # terminal sees them in the progress display instead).
    if verbose:
        log.setLevel(logging.DEBUG)
    else:
        log.setLevel(logging.WARNING if _interactive() else logging.INFO)
    try:
        settings = get_settings()
    except ConfigError as error:
        raise _fail(f"configuration: {error}", 2) from None
    return replace(
        settings, **{name: value for name, value in options.items() if value is not None}
    )


def _new_run_id() -> str:
    return "cli__" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def _run_date(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


def _progress():
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def _records_progress(name: str) -> Iterator[Callable[[dict[str, int]], None] | None]:
    """Per-stream record counts as progress bars while a sync runs (in a terminal only)."""
    if not _interactive():
        yield None
        return
    with _progress() as progress:
        bars: dict[str, Any] = {}

        def update(counts: dict[str, int]) -> None:
            for stream, records in counts.items():
                if stream not in bars:
                    bars[stream] = progress.add_task(f"{name}: {stream}", total=None, detail="")
                progress.update(bars[stream], detail=f"{records:,} records")

        yield update
        for bar in bars.values():
            progress.update(bar, total=1, completed=1)


def _step(settings: Settings, name: str, step, records: bool = False, **kwargs) -> dict:
    """Run one step from the command line: progress or structured logs, one-line errors, and
    the step's metrics printed as JSON on stdout."""
    from pipeline.steps import run_step

    log.info("step started", extra={"fields": {"step": name}})
    started = time.monotonic()
    try:
        if records:
            with _records_progress(name) as progress:
                metrics = run_step(settings, _new_run_id(), name, step, progress=progress, **kwargs)
        elif _interactive():
            with console.status(f"{name}…"):
                metrics = run_step(settings, _new_run_id(), name, step, **kwargs)
        else:
            metrics = run_step(settings, _new_run_id(), name, step, **kwargs)
    except Exception as error:  # every step error is reported the same way
        log.info("step failed", extra={"fields": {"step": name}})
        from pipeline.processes import lock_conflict  # DuckDB's lock error, made one line

        raise _fail(f"{name}: {lock_conflict(str(error)) or error}") from None
    seconds = round(time.monotonic() - started, 1)
    log.info("step finished", extra={"fields": {"step": name, "seconds": seconds}})
    sys.stdout.write(orjson.dumps(metrics, default=str, option=orjson.OPT_INDENT_2).decode())
    sys.stdout.write("\n")
    return metrics


@contextmanager
def _run_progress(settings, run_id: str) -> Iterator[None]:
    """The steps of a DAG run as they finish, read from the run's log while Airflow runs it:
    a progress display in a terminal, one structured log line per step otherwise."""
    from pipeline.runlog import read_steps

    stop = threading.Event()
    progress = _progress() if _interactive() else None
    bar = None
    if progress is not None:
        progress.start()
        bar = progress.add_task(
            "running the DAG campaign_pipeline (airflow dags test)", total=None, detail=""
        )

    def watch() -> None:
        seen = 0
        while True:
            stopping = stop.wait(2)
            steps = read_steps(settings.runs_dir, run_id)
            for entry in steps[seen:]:
                fields = {k: entry[k] for k in ("step", "status", "seconds")}
                log.info("step finished", extra={"fields": fields})
                if progress is not None:
                    progress.update(
                        bar,
                        detail=f"{len(steps)} steps done; last {entry['step']} "
                        f"({entry['status']}, {entry['seconds']:.0f}s)",
                    )
            seen = len(steps)
            if stopping:
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=10)
        if progress is not None:
            progress.stop()


@app.command()
def run(
    scale: Scale = None,
    seed: Seed = None,
    logical_date: RunDate = None,
    verbose: Verbose = False,
) -> None:
    """Run the whole pipeline through Airflow, with the mock APIs running, then print a summary."""
    settings = _configure(verbose, mock_scale=scale, mock_seed=seed)
    from pipeline import services
    from pipeline.report import report_path
    from pipeline.summary import print_summary, summarize

    run_id = _new_run_id()
    started = time.monotonic()
    try:
        with services.mock_apis(settings):
            console.print(
                f"mock APIs at {settings.mock_url} "
                f"(seed {settings.mock_seed}, scale {settings.mock_scale})"
            )
            if services.prepare_dbt_manifest(settings):
                console.print(f"dbt manifest written: {settings.data_dir / 'dbt'}")
            with _run_progress(settings, run_id):
                log_file = services.run_dag(settings, _run_date(logical_date), run_id)
    except services.ServiceError as error:
        raise _fail(str(error)) from None
    summary = summarize(settings, run_id)
    summary["seconds"] = round(time.monotonic() - started, 1)
    (settings.runs_dir / f"{run_id}.summary.json").write_bytes(
        orjson.dumps(summary, default=str, option=orjson.OPT_INDENT_2)
    )
    print_summary(summary, Console())
    report = report_path(settings, run_id)
    console.print(
        f"[green]done[/green] in {summary['seconds']}s; warehouse {settings.warehouse_path}, "
        f"lake {settings.lake_root}, report {report}, Airflow log {log_file}",
        soft_wrap=True,  # never a path broken across lines (not a terminal: 80 columns)
    )
    console.print(
        f"dashboards: `make dashboard` builds them from this run's snapshot "
        f"({settings.snapshots_dir / 'current'}) and serves them at "
        f"http://{settings.bind_host}:{settings.dashboard_port}/",
        soft_wrap=True,
    )


@app.command()
def up(
    port: Annotated[
        int, typer.Option(help="Port of the Airflow UI (on PIPELINE_BIND_HOST, 127.0.0.1).")
    ] = 8080,
    scale: Scale = None,
    seed: Seed = None,
) -> None:
    """Serve the Airflow UI (scheduler included) with the mock APIs running, until Ctrl-C."""
    settings = _configure(mock_scale=scale, mock_seed=seed)
    import signal

    from pipeline import services
    from pipeline.secrets import airflow_passwords_file

    log_file = settings.data_dir / "logs" / "airflow-up.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # SIGTERM (a service manager, `kill`) stops the stack like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with services.mock_apis(settings), log_file.open("ab") as output:
            services.prepare_airflow(settings, output)
            console.print(f"mock APIs at {settings.mock_url}")
            console.print(
                f"Airflow UI at [bold]{services.ui_url(settings, port)}[/bold]: user admin, "
                f"password in {airflow_passwords_file(settings)}; log {log_file}. "
                "Ctrl-C stops everything."
            )
            services.serve_airflow(settings, port, output)
    except KeyboardInterrupt:
        pass
    except services.ServiceError as error:
        raise _fail(str(error)) from None


@app.command()
def cluster(
    scale: Scale = None,
    seed: Seed = None,
    run: Annotated[
        bool,
        typer.Option(
            "--run",
            help="Trigger one run of the DAG through Airflow's REST API, wait for it, print its "
            "summary, then stop the cluster (the DAG's schedule is off for it).",
        ),
    ] = False,
) -> None:
    """Run the production topology on this machine until Ctrl-C: PostgreSQL, Airflow's four
    components (LocalExecutor), a Spark master and two workers, the mock APIs (no Docker)."""
    settings = _configure(mock_scale=scale, mock_seed=seed)
    import signal

    from pipeline.cluster import ClusterError, LocalCluster

    if run:
        settings = replace(settings, schedule=None)
    # SIGTERM (a service manager, `kill`) stops the cluster like Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    topology = LocalCluster(
        settings, say=lambda line: console.print(line, highlight=False, soft_wrap=True)
    )
    started = time.monotonic()
    try:
        with topology.running() as running:
            console.print(f"cluster up in {time.monotonic() - started:.0f}s:", highlight=False)
            for name, role, where in running.where():
                line = f"  {name:22} {where or '-':44} {role}"
                console.print(line, highlight=False, soft_wrap=True)
            from pipeline.secrets import airflow_passwords_file

            console.print(
                f"Airflow UI: user admin, password in {airflow_passwords_file(settings)}; "
                f"logs in {running.log_dir}. Ctrl-C stops everything.",
                soft_wrap=True,
            )
            if run:
                _cluster_run(running)
            else:
                while True:
                    running.raise_on_failure()
                    time.sleep(1)
    except KeyboardInterrupt:
        pass
    except ClusterError as error:
        raise _fail(str(error)) from None


def _cluster_run(running) -> None:
    """`pipeline cluster --run`: one DAG run through the REST API, like a person in the UI."""
    from pipeline.cluster import AirflowApi
    from pipeline.summary import print_summary, summarize

    settings = running.settings
    run_id = "cluster__" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    api = AirflowApi(settings)
    started = time.monotonic()
    api.trigger(run_id, {"pipeline_run_id": run_id})
    with _run_progress(settings, run_id):
        state = api.wait_for_run(run_id, seconds=3600)
    seconds = round(time.monotonic() - started, 1)
    summary = summarize(settings, run_id)
    summary["seconds"] = seconds
    print_summary(summary, Console())
    if state != "success":
        raise _fail(f"the run {run_id} ended {state} after {seconds}s: see the Airflow UI")
    console.print(f"[green]done[/green]: the run {run_id} succeeded in {seconds}s", soft_wrap=True)


@app.command()
def secrets() -> None:
    """Generate the installation's secrets (data/secrets, owner only), if missing."""
    settings = _configure()
    from pipeline.cluster import write_secrets

    console.print(f"secrets in {write_secrets(settings)}", soft_wrap=True)


@app.command()
def compose(
    check: Annotated[
        bool, typer.Option("--check", help="Only check that docker-compose.yml is current.")
    ] = False,
) -> None:
    """Write docker-compose.yml from the topology `pipeline cluster` runs (pipeline/topology.py)."""
    from pipeline.config import PROJECT_ROOT
    from pipeline.topology import compose_yaml

    path = PROJECT_ROOT / "docker-compose.yml"
    text = compose_yaml()
    if check:
        if path.read_text() != text:
            raise _fail(f"{path} is not what pipeline/topology.py says: run `pipeline compose`")
        return
    path.write_text(text)
    console.print(f"wrote {path}", soft_wrap=True)


@app.command()
def prepare(
    airflow: Annotated[
        bool,
        typer.Option(
            help="Also prepare the local Airflow (SQLite metadata DB and pool); --no-airflow for "
            "a deployment that prepares its own, as docker-compose.yml's airflow-init does.",
        ),
    ] = True,
    force: Annotated[
        bool,
        typer.Option(
            "--force/--if-changed",
            help="Parse the dbt project even when its manifest is current (--if-changed: only "
            "when the project changed, as `make cluster` does at each start).",
        ),
    ] = True,
) -> None:
    """Write the dbt manifest the DAG renders a task per model from (`dbt parse`), and prepare
    Airflow's metadata DB and pool; `pipeline run` and `pipeline up` do it when needed."""
    settings = _configure()
    from pipeline import services

    log_file = settings.data_dir / "logs" / "airflow-prepare.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with console.status("dbt parse…") if _interactive() else _nothing():
            services.prepare_dbt_manifest(settings, force=force)
        if airflow:
            with log_file.open("ab") as output:
                services.prepare_airflow(settings, output)
    except services.ServiceError as error:
        raise _fail(str(error)) from None
    from pipeline.dbt import manifest_path

    where = f"; Airflow home {settings.airflow_home}" if airflow else ""
    console.print(f"dbt manifest {manifest_path(settings)}{where}")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@app.command("serve-mock")
def serve_mock(
    port: Annotated[int | None, typer.Option(help="TCP port on 127.0.0.1 (env MOCK_PORT).")] = None,
    scale: Scale = None,
    seed: Seed = None,
    dirty_rate: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Share of defective records (env MOCK_DIRTY_RATE)."),
    ] = None,
    days_advanced: Annotated[
        int, typer.Option(min=0, help="Start this many simulated days after the anchor.")
    ] = 0,
    faults: Annotated[
        str | None,
        typer.Option(help="Faults to inject, e.g. outage,server_error:rate=0.2 (env MOCK_FAULTS)."),
    ] = None,
) -> None:
    """Serve the mock APIs in the foreground with the pipeline's configuration, until Ctrl-C
    or SIGTERM.

    The same command `pipeline run` and `pipeline up` start in the background.
    """
    settings = _configure(
        mock_port=port, mock_scale=scale, mock_seed=seed, mock_dirty_rate=dirty_rate
    )
    from pipeline import services

    options = ["--days-advanced", str(days_advanced), *(["--faults", faults] if faults else [])]
    command = services.mock_command(settings, *options)
    sys.stdout.flush()
    sys.stderr.flush()
    # The mock replaces this process (same pid, no child): Ctrl-C, SIGTERM from a service manager
    # or `kill` reach the server itself, which stops and frees its port.
    os.execve(command[0], command, settings.child_env())


@app.command()
def advance(
    days: Annotated[int, typer.Option(min=1, help="Days to move the simulated now forward.")] = 1,
    url: Annotated[
        str | None,
        typer.Option(help="The running mock (default: the configured MOCK_HOST and MOCK_PORT)."),
    ] = None,
) -> None:
    """Move the running mock's clock forward: new people, campaigns, activity and deals appear.

    The same call as `mock-apis advance`: POST /_mock/advance on the running mock.
    """
    settings = _configure()
    from pipeline.services import ServiceError, advance_mock_clock

    try:
        clock = advance_mock_clock(url or settings.mock_url, days)
    except ServiceError as error:
        raise _fail(f"{error} (start it with `pipeline serve-mock`)") from None
    typer.echo(f"now {clock['now']} ({clock['days_advanced']} days advanced)")


@app.command()
def sync(
    connection: Annotated[
        str,
        typer.Argument(
            help="mailchimp, hubspot, google_sheets (into DuckDB) or mailchimp_events (the lake)"
        ),
    ],
    run_date: RunDate = None,
    verbose: Verbose = False,
) -> None:
    """Run one Airbyte connection: extract a source and load it (the mock APIs must be running)."""
    settings = _configure(verbose)
    from pipeline.steps import CONNECTIONS, extract_load

    if connection not in CONNECTIONS:
        raise _fail(f"unknown connection {connection!r}: choose one of {', '.join(CONNECTIONS)}", 2)
    _step(
        settings,
        f"extract_load_{connection}",
        extract_load,
        records=True,
        connection=connection,
        run_date=_run_date(run_date),
    )


lake_app = typer.Typer(no_args_is_help=False)
app.add_typer(lake_app, name="lake")
LakeTable = Annotated[str, typer.Argument(help="the table, e.g. gold/email_events")]


@lake_app.callback(invoke_without_command=True)
def lake(
    ctx: typer.Context,
    run_date: RunDate = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Rebuild every table from all of bronze, not only what is new.")
    ] = False,
) -> None:
    """Merge the bronze that arrived since the last run into the lake's silver and gold tables
    with Spark (or look back: `history`, `restore`; tidy up: `maintain`)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _configure()
    from pipeline.steps import build_lake

    _step(
        settings,
        "build_lake",
        build_lake,
        run_date=_run_date(run_date),
        full_refresh=full_refresh,
    )


@lake_app.command("maintain")
def lake_maintain() -> None:
    """Compact the lake tables' small files and vacuum those no version of the last week needs."""
    settings = _configure()
    from pipeline.steps import maintain_lake

    _step(settings, "maintain_lake", maintain_lake)


@lake_app.command("history")
def lake_history(table: LakeTable) -> None:
    """List a lake table's versions, newest first: version, when, operation, rows written."""
    settings = _configure()
    from pipeline.steps import lake_history as history

    _step(settings, "lake_history", history, table=table)


@lake_app.command("restore")
def lake_restore(
    table: LakeTable,
    version: Annotated[int, typer.Option(help="the version to roll back to", min=0)],
) -> None:
    """Roll a lake table back to a version (a new version; `history` shows them all)."""
    settings = _configure()
    from pipeline.steps import restore_lake_table

    _step(settings, "lake_restore", restore_lake_table, table=table, version=version)


@app.command()
def transform(
    select: Annotated[
        str | None,
        typer.Option(help="Only these dbt nodes (dbt's --select syntax, e.g. +quarantine_rows)."),
    ] = None,
    exclude: Annotated[
        str | None,
        typer.Option(help="Leave these out (stg_lake__email_events+: all that needs the lake)."),
    ] = None,
) -> None:
    """Build the warehouse with dbt (staging, intermediate, marts, tests): one `dbt build`."""
    settings = _configure()
    from pipeline.steps import build_warehouse

    _step(settings, "build_warehouse", build_warehouse, select=select, exclude=exclude)


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
    settings = _configure()
    from pipeline import steps

    layers = {"raw": steps.check_raw, "lake": steps.check_lake, "marts": steps.check_marts}
    if layer != "all" and layer not in layers:
        raise _fail(f"layer must be all, raw, lake or marts, not {layer!r}", 2)
    if layer != "all":
        _step(settings, f"check_{layer}", layers[layer])
        return
    from pathlib import Path

    from quality.ci import run_all

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
    settings = _configure()
    from pipeline.report import write_report
    from pipeline.runlog import latest_run_id

    run_id = run_id or latest_run_id(settings.runs_dir)
    if run_id is None:
        raise _fail(f"no run recorded in {settings.runs_dir}: run one first")
    console.print(write_report(settings, run_id)["report"])


@app.command()
def snapshot() -> None:
    """Publish the marts as a snapshot for the dashboards (a successful run does it itself)."""
    settings = _configure()
    from pipeline.steps import publish_snapshot

    _step(settings, "publish_snapshot", publish_snapshot, run_id=_new_run_id())


@app.command()
def dashboard(
    serve: Annotated[
        bool, typer.Option(help="Serve the built site on 127.0.0.1 until Ctrl-C.")
    ] = True,
    port: Annotated[int | None, typer.Option(help="Port (default DASHBOARD_PORT, 3000).")] = None,
) -> None:
    """Build the dashboards from the latest run's snapshot (dashboards/dist), then serve them."""
    settings = _configure(dashboard_port=port)
    from pipeline.dashboard import DashboardError, serve_site
    from pipeline.steps import build_dashboard

    _step(settings, "build_dashboard", build_dashboard)
    if serve:
        try:
            serve_site(settings.bind_host, settings.dashboard_port)
        except (DashboardError, OSError) as error:
            raise _fail(f"dashboard: {error}") from None
        except KeyboardInterrupt:
            pass


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A SQL query, run read-only on the warehouse.")],
) -> None:
    """Query the warehouse (read-only) and print the rows, `|`-separated under a header line."""
    warehouse = _configure().warehouse_path
    import duckdb

    if not warehouse.exists():
        raise _fail(f"no warehouse at {warehouse}: load it first (`pipeline sync`)")
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            cursor = connection.execute(query)
            names = [column[0] for column in cursor.description or []]
            rows = cursor.fetchall()
    except duckdb.Error as error:
        from pipeline.processes import lock_conflict

        raise _fail(f"sql: {lock_conflict(str(error)) or str(error).splitlines()[0]}", 2) from None
    lines = [" | ".join(names)]
    lines += [" | ".join("null" if v is None else str(v) for v in row) for row in rows]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def summary() -> None:
    """Print the rows per table of the warehouse."""
    settings = _configure()
    from pipeline.summary import print_summary, summarize

    print_summary(summarize(settings, run_id="(tables only)"), Console())


def main() -> None:
    """The entry point: a bad argument gives one line naming what to fix, not a usage box."""
    try:
        code = app(standalone_mode=False)
    except UsageError as error:
        if type(error).__name__ == "NoArgsIsHelpError":
            typer.echo(error.ctx.get_help())
            sys.exit(0)
        where = error.ctx.command_path if error.ctx else "pipeline"
        console.print(
            f"[red]error[/red]: {error.format_message()} (see `{where} --help`)",
            highlight=False,
            soft_wrap=True,
        )
        code = 2
    except typer.Abort:
        console.print("aborted")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
