"""The Great Expectations checks, on a small DuckDB warehouse and silver lake shaped like the real
ones.

GX spends about a second per table rendering Data Docs, so each test breaks several things at once
and checks that every one of them is named: that also shows every table is validated before a
failure is raised.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt_fixtures import SILVER_SCHEMA
from deltalake import DeltaTable, write_deltalake

from quality.checks import QualityCheckFailed, check_lake, check_marts, check_raw
from quality.ci import run_all
from quality.suites import RAW_REQUIRED_COLUMNS

MART = "marts.campaign_performance"


def _raw_table(table: str, rows: int, extra: dict[str, str] | None = None) -> str:
    """A raw table with the columns dbt needs (as text: the checks read names, not types), the
    Airbyte columns, freshly extracted, and ``rows`` rows; ``extra`` sets some columns."""
    extra = extra or {}
    columns = [
        f'{extra.get(column, "null")} as "{column}"' for column in RAW_REQUIRED_COLUMNS[table]
    ]
    return f"""
        create table {table} as
        select {", ".join(columns)},
            'r' || range as _airbyte_raw_id,
            now() - interval 1 hour as _airbyte_extracted_at,
            '{{}}'::json as _airbyte_meta
        from range({rows});
    """


WAREHOUSE_SQL = "\n".join(
    [
        "create schema raw_mailchimp; create schema raw_hubspot; create schema marts;",
        "create schema raw_google_sheets;",
        _raw_table("raw_google_sheets.campaign_spend", 2, {"row_number": "range + 3"}),
        _raw_table("raw_google_sheets.pipeline_targets", 2, {"row_number": "range + 2"}),
        _raw_table("raw_mailchimp.lists", 2, {"id": "'l' || range"}),
        # member m0 is in two lists: the key of list_members is (id, list_id)
        _raw_table(
            "raw_mailchimp.list_members",
            3,
            {"id": "'m' || (range // 2)", "list_id": "'l' || (range % 2)"},
        ),
        _raw_table("raw_mailchimp.campaigns", 2, {"id": "'c' || range", "status": "'sent'"}),
        _raw_table(
            "raw_mailchimp.email_activity",
            3,
            {
                "campaign_id": "'c1'",
                "email_id": "'m' || range",
                "action": "['open', 'click', 'bounce'][range + 1]",
                "timestamp": "now()",
            },
        ),
        _raw_table("raw_hubspot.contacts", 2, {"id": "range::varchar"}),
        _raw_table("raw_hubspot.companies", 2, {"id": "range::varchar"}),
        _raw_table("raw_hubspot.deals", 2, {"id": "range::varchar"}),
        # the marts, with the column types of their dbt contracts
        f"""
        create table {MART} as
        select
            campaign_id,
            recipients::bigint as recipients,
            unique_opens::bigint as unique_opens,
            unique_clicks::bigint as unique_clicks,
            unique_open_rate::double as unique_open_rate,
            unique_click_rate::double as unique_click_rate,
            won_deals::bigint as won_deals,
            won_revenue::decimal(18, 2) as won_revenue,
            pipeline_deals::bigint as pipeline_deals,
            pipeline_amount::decimal(18, 2) as pipeline_amount
        from (values
            ('c1', 3, 2, 1, 2 / 3, 1 / 3, 1, 500.0, 2, 800.0),
            ('c2', 0, 0, 0, 0, 0, 0, 0.0, 0, 0.0)
        ) as t(campaign_id, recipients, unique_opens, unique_clicks, unique_open_rate,
               unique_click_rate, won_deals, won_revenue, pipeline_deals, pipeline_amount);
        """,
        """
        create table marts.fct_deals as
        select * from (values ('d1', 500.0::decimal(18, 2)), ('d2', 300.0::decimal(18, 2)))
            as t(deal_id, amount);
        create table marts.dim_people as
        select * from (values ('p1', 0.0::double), ('p2', 81.5)) as t(person_id, engagement_score);
        create table marts.audience_health as
        select * from (values ('a1', 0.0), ('a2', 0.5)) as t(audience_month_id, churn_rate);
        create table marts.lifecycle_funnel as
        select * from (values ('f1', null), ('f2', 0.5))
            as t(lifecycle_funnel_id, conversion_from_previous_stage);
        create table marts.campaign_return_on_spend as
        select * from (values
            ('c1', 400.0::decimal(18, 2), 1.25::double, 400.0::double, 2::bigint, 1::bigint),
            ('c2', 0.0, null, null, 0, 0)
        ) as t(campaign_id, spend_usd, return_on_spend, cost_per_click, leads, won_deals);
        create table marts.pipeline_vs_target as
        select * from (values ('t1', 10000.0::decimal(18, 2)))
            as t(pipeline_target_id, target_pipeline_usd);
        """,
    ]
)


def write_silver(lake: Path, days: list[int], schema: pa.Schema = SILVER_SCHEMA) -> None:
    """One open per day of March 2024, appended to the silver Delta table by event_date."""
    rows = []
    for day in days:
        row = {
            "campaign_id": "c1",
            "list_id": "l1",
            "email_id": f"m{day}",
            "email_address": f"m{day}@example.com",
            "action": "open",
            "bounce_type": None,
            "url": None,
            "ip": "192.0.2.1",
            "event_at": datetime(2024, 3, day, 9, tzinfo=UTC),
            "first_ingest_date": date(2024, 3, day),
            "is_late": False,
            "campaign_name": "extra",
            "event_date": date(2024, 3, day),
        }
        rows.append(row)
    schema = schema.append(pa.field("event_date", pa.date32()))
    write_deltalake(
        str(lake / "silver" / "email_activity"),
        pa.Table.from_pylist(rows, schema=schema),
        mode="append",
        partition_by=["event_date"],
        schema_mode="merge",
    )


def write_bronze(lake: Path, days: list[int]) -> None:
    """What destination-lake landed: one open per day of March 2024, timestamps as strings."""
    partition = lake / "bronze" / "email_activity" / "ingest_date=2024-03-31"
    partition.mkdir(parents=True)
    rows = [
        {
            "campaign_id": "c1",
            "email_id": f"m{day}",
            "action": "open",
            "timestamp": f"2024-03-{day:02d}T09:00:00+00:00",
        }
        for day in days
    ]
    pq.write_table(pa.Table.from_pylist(rows), partition / "part-0.parquet")


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(WAREHOUSE_SQL)
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    write_bronze(root, [1, 2, 3])
    write_silver(root, [1, 2, 3])
    return root


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    return tmp_path / "quality"


def corrupt(warehouse: Path, statement: str) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(statement)


# Each defect below breaks exactly one expectation (the empty table two: no fresh row either).
RAW_DEFECTS = {
    "volume drop": (
        # 1 of 3 rows left, less than half the last good run's
        "delete from raw_mailchimp.list_members where id != 'm0' or list_id != 'l0'",
        "raw_mailchimp.list_members: expect_table_row_count_to_be_between(min_value=2",
    ),
    "stale load": (
        "update raw_hubspot.deals set _airbyte_extracted_at = now() - interval 3 day",
        "raw_hubspot.deals: expect_column_min_to_be_between(column='hours_since_extracted', "
        "min_value=0.0, max_value=48.0",
    ),
    "missing column": (
        "alter table raw_hubspot.contacts drop column properties_email",
        "raw_hubspot.contacts: expect_table_columns_to_match_set(",
    ),
    "unknown action": (
        "update raw_mailchimp.email_activity set action = 'forward' where action = 'click'",
        "raw_mailchimp.email_activity: expect_column_values_to_be_in_set(column='action', "
        "value_set=['open', 'click', 'bounce']): 1 unexpected, e.g. ['forward']",
    ),
    "empty table": (
        "delete from raw_hubspot.companies",
        "raw_hubspot.companies: expect_table_row_count_to_be_between(min_value=1",
    ),
}


def test_bad_raw_data_fails_naming_every_failed_expectation(
    warehouse: Path, context_dir: Path
) -> None:
    # the last good run's counts: the volume baseline
    context_dir.mkdir()
    (context_dir / "raw_row_counts.json").write_text('{"raw_mailchimp.list_members": 3}')
    for statement, _ in RAW_DEFECTS.values():
        corrupt(warehouse, statement)
    with pytest.raises(QualityCheckFailed, match="data-quality checks failed") as failure:
        check_raw(warehouse, context_dir)

    message = str(failure.value)
    for defect, (_, expected) in RAW_DEFECTS.items():
        assert expected in message, defect
    result = failure.value.result
    assert not result.success
    assert len(result.failures) == len(RAW_DEFECTS) + 1
    assert result.data_docs.is_file()
    # a failed run does not lower the baseline
    counts = json.loads((context_dir / "raw_row_counts.json").read_text())
    assert counts["raw_mailchimp.list_members"] == 3


def test_good_marts_pass_in_any_schema(warehouse: Path, context_dir: Path) -> None:
    corrupt(
        warehouse,
        "create schema main_marts;"
        + "".join(
            f"create table main_marts.{table} as select * from marts.{table};"
            for table in (
                "campaign_performance",
                "fct_deals",
                "dim_people",
                "audience_health",
                "lifecycle_funnel",
                "campaign_return_on_spend",
                "pipeline_vs_target",
            )
        ),
    )
    result = check_marts(warehouse, context_dir, "main_marts.campaign_performance")
    assert result.success
    assert all(suite.startswith("main_marts.") for suite in result.statistics)
    assert len(result.statistics) == 7


MART_DEFECTS = {
    "rate above 1": (
        f"update {MART} set unique_open_rate = 1.5 where campaign_id = 'c1'",
        f"{MART}: expect_column_values_to_be_between(column='unique_open_rate', min_value=0.0, "
        "max_value=1.0): 1 unexpected, e.g. [1.5]",
    ),
    "revenue above the attributed deals' amounts": (
        f"update {MART} set won_revenue = 900 where campaign_id = 'c1'",
        f"{MART}: expect_column_pair_values_a_to_be_greater_than_b(column_A='pipeline_amount', "
        "column_B='won_revenue', or_equal=True): 1 unexpected",
    ),
    "more clicks than recipients": (
        f"update {MART} set unique_clicks = 4 where campaign_id = 'c1'",
        f"{MART}: expect_column_pair_values_a_to_be_greater_than_b(column_A='recipients', "
        "column_B='unique_clicks', or_equal=True): 1 unexpected, e.g. [(3, 4)]",
    ),
    "two rows for one campaign": (
        f"update {MART} set campaign_id = 'c1'",
        f"{MART}: expect_column_values_to_be_unique(column='campaign_id')",
    ),
    "negative deal amount": (
        "update marts.fct_deals set amount = -5 where deal_id = 'd2'",
        "marts.fct_deals: expect_column_values_to_be_between(column='amount', min_value=0.0",
    ),
    "churn above 1": (
        "update marts.audience_health set churn_rate = 2 where audience_month_id = 'a2'",
        "marts.audience_health: expect_column_values_to_be_between(column='churn_rate'",
    ),
    "negative spend": (
        "update marts.campaign_return_on_spend set spend_usd = -1 where campaign_id = 'c2'",
        "marts.campaign_return_on_spend: expect_column_values_to_be_between(column='spend_usd'",
    ),
    "engagement score above 100": (
        "update marts.dim_people set engagement_score = 120 where person_id = 'p2'",
        "marts.dim_people: expect_column_values_to_be_between(column='engagement_score'",
    ),
}


def test_bad_marts_fail_naming_every_failed_expectation(warehouse: Path, context_dir: Path) -> None:
    for statement, _ in MART_DEFECTS.values():
        corrupt(warehouse, statement)
    with pytest.raises(QualityCheckFailed) as failure:
        check_marts(warehouse, context_dir)

    for defect, (_, expected) in MART_DEFECTS.items():
        assert expected in str(failure.value), defect
    assert len(failure.value.result.failures) == len(MART_DEFECTS)


def test_good_lake_passes(lake: Path, context_dir: Path) -> None:
    result = check_lake(lake, context_dir)
    assert result.success
    assert result.row_counts == {
        "lake.silver.email_activity": 3,
        "lake.silver.email_activity.partitions": 3,
    }


def test_lake_with_a_missing_day_and_an_unknown_column_fails(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    # bronze has events on 1, 2 and 3 March, silver misses 2 March; the files carry a column the
    # contract does not have
    write_bronze(lake, [1, 2, 3])
    write_silver(lake, [1, 3], SILVER_SCHEMA.append(pa.field("campaign_name", pa.string())))
    with pytest.raises(QualityCheckFailed) as failure:
        check_lake(lake, tmp_path / "quality")
    message = str(failure.value)
    assert (
        "lake.silver.email_activity.partitions: expect_column_values_to_be_in_set("
        "column='is_present', value_set=[True]): 1 unexpected, e.g. [False]"
    ) in message
    assert "lake.silver.email_activity: expect_table_columns_to_match_set(" in message
    assert len(failure.value.result.failures) == 2


def test_ci_run_all_writes_junit_and_a_summary(
    warehouse: Path, lake: Path, context_dir: Path, tmp_path: Path
) -> None:
    junit, summary = tmp_path / "ci" / "quality.xml", tmp_path / "ci" / "quality.txt"
    assert run_all(warehouse, lake, context_dir, junit, summary)
    good = ET.parse(junit).getroot()
    cases = good.findall(".//testcase")
    assert len(cases) == int(good.get("tests")) > 40
    assert good.get("failures") == "0"
    assert {suite.get("name").split(".")[0] for suite in good.iter("testsuite")} == {
        "raw",
        "lake",
        "marts",
    }
    assert "marts: ok" in summary.read_text()
    # a passing run keeps the raw counts, the next run's volume baseline, and builds Data Docs
    counts = json.loads((context_dir / "raw_row_counts.json").read_text())
    assert counts["raw_mailchimp.list_members"] == 3
    data_docs = context_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert data_docs.is_file()
    assert f"Data Docs: {data_docs}" in summary.read_text()

    corrupt(warehouse, f"update {MART} set unique_open_rate = 1.5 where campaign_id = 'c1'")
    # a run that lost a day: the current version of silver has no 2024-03-02
    DeltaTable(str(lake / "silver" / "email_activity")).delete("event_date = '2024-03-02'")
    assert not run_all(warehouse, lake, context_dir, junit, summary)
    bad = ET.parse(junit).getroot()
    failed = [case for case in bad.iter("testcase") if case.find("failure") is not None]
    assert [case.get("classname") for case in failed] == [
        "quality.lake.lake.silver.email_activity.partitions",
        "quality.marts.marts.campaign_performance",
    ]
    assert bad.get("failures") == "2"
    text = summary.read_text()
    assert "raw: ok" in text
    assert "lake: FAILED" in text
    assert "marts: FAILED" in text
    assert "unique_open_rate" in text
