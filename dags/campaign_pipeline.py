"""
### Campaign pipeline: which campaigns bring pipeline and revenue?

One run, end to end, in stages (task groups) with quality gates between them:

1. **ingest**: the Airbyte sources read the APIs (the mock APIs by default) and `destination-duckdb`
   lands them in `raw_mailchimp` / `raw_hubspot` / `raw_google_sheets` (the marketing team's
   spreadsheet of spend and targets, replaced whole each run); **check_raw** (Great
   Expectations) gates them.
2. **lake**: the high-volume email activity takes its own Airbyte connection to `destination-lake`
   (bronze Parquet, one partition per ingestion date); Spark merges the bronze that arrived since
   the last run into silver (typed, deduplicated, partitioned by event date) and gold (engagement
   per campaign and day, per person, sessions), Delta Lake tables, in one Spark application;
   **check_lake** gates them; **maintain_lake** compacts the tables' small files and vacuums the
   files no version of the last week needs.
3. **warehouse**: dbt (staging, intermediate, marts), reading raw and gold, one Airflow task per
   dbt model and seed (astronomer-cosmos), wired as dbt's own graph, so the lineage shows in the
   Graph view; then one `dbt test` task runs every test. Ephemeral models show as empty tasks.
4. **check_marts**: Great Expectations on the marts.
5. **publish_snapshot**: the checked marts as Parquet in a new snapshot folder, made current
   atomically: what the dashboards (`make dashboard`) read, never the warehouse itself.

Then **write_report** writes the run's HTML report whatever happened, and **fail_if_a_step_failed**
keeps the run failed when a step failed (the report alone would otherwise end it green).

Why one DAG with task groups rather than several DAGs linked by Assets: a run is one logical date
through every stage, and `make run` runs it with one `airflow dags test`. The tasks still declare
the Assets they produce (`outlets`), so the Assets view shows the lineage from raw to marts.

Every task is a thin call of a step in `pipeline/steps.py` (the CLI calls the same steps),
idempotent for its logical date: it reads the configuration from its process's environment once
(`pipeline.config.get_settings`: the environment is the one place a deployment configures) and
passes it to the step. DuckDB allows one writing process, so every task that writes the warehouse
takes the one-slot pool `duckdb_writer` (every dbt task too), and one run at a time is allowed.

How the dbt tasks are built: cosmos must create them while the DAG file is parsed. That stays
cheap: the graph is read from the manifest that `pipeline prepare` writes with `dbt parse`
(`pipeline run` and `pipeline up` write it when the project changed), so parsing never runs dbt,
and neither cosmos nor dbt is imported at module level. Each task runs dbt in its own process
(`ExecutionMode.LOCAL`, `InvocationMode.DBT_RUNNER`: no dbt start-up per task), with the
environment of `pipeline/dbt.py` given to it when it starts; the CLI's `pipeline transform` runs the
same project, profile and environment as one `dbt build`. Without a manifest the warehouse
stage is that one `dbt build` task.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from airflow.sdk import Asset, TaskGroup, dag, get_current_context, task

from pipeline.config import get_settings

WAREHOUSE_WRITER_POOL = "duckdb_writer"

RAW_MAILCHIMP = Asset("warehouse.raw_mailchimp")
RAW_HUBSPOT = Asset("warehouse.raw_hubspot")
RAW_GOOGLE_SHEETS = Asset("warehouse.raw_google_sheets")
LAKE_BRONZE = Asset("lake.bronze.email_activity")
LAKE_SILVER = Asset("lake.silver.email_activity")
LAKE_GOLD = Asset("lake.gold")
MARTS = Asset("warehouse.marts")

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 1,
    "retry_delay": timedelta(seconds=15),
    "execution_timeout": timedelta(minutes=30),
}


def _run_id() -> str:
    """The pipeline's run id: given by `pipeline run` in the run's conf, else Airflow's own."""
    from pipeline.runlog import pipeline_run_id

    return pipeline_run_id(get_current_context())


def _run(name: str, step, **kwargs) -> dict:
    """A task's body: the configuration of this task's process, given to one step, recorded in
    the run's log under ``name``."""
    from pipeline.steps import run_step

    return run_step(get_settings(), _run_id(), name, step, **kwargs)


def _run_date() -> date:
    context = get_current_context()
    moment = context.get("logical_date") or context["dag_run"].run_after
    return moment.date()


def _warehouse_group() -> TaskGroup:
    """The warehouse stage: one Airflow task per dbt model (astronomer-cosmos), so the UI shows
    dbt's lineage; or, before `pipeline prepare` has written the manifest, one `dbt build` task.

    Cosmos builds its tasks while the DAG is parsed, so this runs at parse time; it stays cheap:
    the graph comes from the manifest `pipeline prepare` wrote (`dbt parse`), not from running dbt,
    and neither dbt nor cosmos is imported at module level.
    """
    from pipeline import dbt

    settings = get_settings()
    manifest = dbt.manifest_path(settings)
    if not manifest.exists():
        tooltip = "dbt build (`pipeline prepare` gives a task per model)"
        with TaskGroup("warehouse", tooltip=tooltip) as group:

            @task(pool=WAREHOUSE_WRITER_POOL, outlets=[MARTS])
            def build_warehouse() -> dict:
                from pipeline.steps import build_warehouse

                return _run("build_warehouse", build_warehouse)

            build_warehouse()
        return group

    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
        TestBehavior,
    )

    group = DbtTaskGroup(
        group_id="warehouse",
        tooltip="dbt: a task per model and seed (dbt run, dbt seed), then one dbt test",
        project_config=ProjectConfig(
            dbt_project_path=settings.dbt_project_dir,
            manifest_path=manifest,
            install_dbt_deps=False,  # no dbt packages: the package hub is unreachable here
        ),
        profile_config=ProfileConfig(
            profile_name=dbt.PROFILE_NAME,
            target_name=dbt.TARGET_NAME,
            profiles_yml_filepath=dbt.profiles_yml(settings),
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,  # dbt in the task's process: no dbt start-up
            dbt_executable_path=dbt.dbt_executable(),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # One `dbt run` task per model, then one `dbt test` task for every test (data tests,
            # unit tests, the quarantine check): per-model tests (BUILD, AFTER_EACH) would
            # double the tasks, and a test of several models would need a task of its own.
            test_behavior=TestBehavior.AFTER_ALL,
            emit_datasets=False,  # the marts' Asset is declared once, on the test task
        ),
        operator_args={
            # DuckDB allows one writing process: every dbt task takes the one-slot pool.
            "pool": WAREHOUSE_WRITER_POOL,
            # The environment dbt reads (warehouse, lake, business rule) is given to each task
            # when it starts, from its process's configuration: never stored in the serialized DAG.
            "pre_execute": dbt.set_dbt_task_env,
            # Each dbt task's line in the run's log (for the run report and the summary), and
            # dbt's warehouse connection closed: see pipeline.dbt.release_warehouse.
            "on_success_callback": dbt.record_dbt_task,
            "on_failure_callback": dbt.record_dbt_task,
            "on_retry_callback": dbt.record_dbt_task,
        },
    )
    for child in group.children.values():
        if type(child).__name__ == "DbtTestLocalOperator":
            child.outlets = [MARTS]  # the marts are ready when built and tested
    return group


@dag(
    dag_id="campaign_pipeline",
    schedule=get_settings().schedule,  # PIPELINE_SCHEDULE, @daily by default
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["elt", "mailchimp", "hubspot", "google-sheets", "dbt", "spark", "great-expectations"],
)
def campaign_pipeline():
    with TaskGroup("ingest", tooltip="Airbyte: sources -> destination-duckdb") as ingest:

        @task(pool=WAREHOUSE_WRITER_POOL, outlets=[RAW_MAILCHIMP])
        def extract_load_mailchimp() -> dict:
            from pipeline.steps import extract_load

            return _run("extract_load_mailchimp", extract_load, connection="mailchimp")

        @task(pool=WAREHOUSE_WRITER_POOL, outlets=[RAW_HUBSPOT])
        def extract_load_hubspot() -> dict:
            from pipeline.steps import extract_load

            return _run("extract_load_hubspot", extract_load, connection="hubspot")

        @task(pool=WAREHOUSE_WRITER_POOL, outlets=[RAW_GOOGLE_SHEETS])
        def extract_load_google_sheets() -> dict:
            from pipeline.steps import extract_load

            return _run("extract_load_google_sheets", extract_load, connection="google_sheets")

        extract_load_mailchimp()
        extract_load_hubspot()
        extract_load_google_sheets()

    @task
    def check_raw() -> dict:
        from pipeline.steps import check_raw

        return _run("check_raw", check_raw)

    with TaskGroup("lake", tooltip="events -> bronze -> silver -> gold (Spark)") as lake:

        @task(outlets=[LAKE_BRONZE])
        def land_email_events() -> dict:
            from pipeline.steps import extract_load

            return _run(
                "land_email_events",
                extract_load,
                connection="mailchimp_events",
                run_date=_run_date(),
            )

        @task(outlets=[LAKE_SILVER, LAKE_GOLD])
        def build_lake() -> dict:
            from pipeline.steps import build_lake

            return _run("build_lake", build_lake, run_date=_run_date())

        @task
        def check_lake() -> dict:
            from pipeline.steps import check_lake

            return _run("check_lake", check_lake)

        @task
        def maintain_lake() -> dict:
            from pipeline.steps import maintain_lake

            return _run("maintain_lake", maintain_lake)

        land_email_events() >> build_lake() >> check_lake() >> maintain_lake()

    warehouse = _warehouse_group()

    @task
    def check_marts() -> dict:
        from pipeline.steps import check_marts

        return _run("check_marts", check_marts)

    @task
    def publish_snapshot() -> dict:
        from pipeline.steps import publish_snapshot

        return _run("publish_snapshot", publish_snapshot, run_id=_run_id())

    @task(trigger_rule="all_done")
    def write_report() -> dict:
        from pipeline.report import write_report

        return write_report(get_settings(), _run_id())

    @task(trigger_rule="one_failed", retries=0)
    def fail_if_a_step_failed() -> None:
        raise RuntimeError("a step of this run failed: see its log and the run report")

    raw_checked = check_raw()
    marts_checked = check_marts()
    published = publish_snapshot()
    ingest >> raw_checked
    [raw_checked, lake] >> warehouse >> marts_checked >> published
    stages = [ingest, raw_checked, lake, warehouse, marts_checked, published]
    stages >> write_report()
    stages >> fail_if_a_step_failed()


campaign_pipeline()
