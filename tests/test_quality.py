"""The Great Expectations checks, on a small DuckDB warehouse shaped like the contract's tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from quality.checks import QualityCheckFailed, check_marts, check_raw

MART = "marts.campaign_performance"

# Raw tables as destination-duckdb writes them (docs/contracts.md), trimmed to a few columns each,
# and the mart with the column types of its dbt contract. Member m1 is in two lists: the key of
# list_members is (id, list_id).
WAREHOUSE_SQL = f"""
create schema raw_mailchimp;
create schema raw_hubspot;
create schema marts;

create table raw_mailchimp.list_members as
select * from (values
    ('m1', 'l1', 'ann@example.com', 'subscribed', 'r1'),
    ('m1', 'l2', 'ann@example.com', 'subscribed', 'r2'),
    ('m2', 'l1', 'bob@example.com', 'unsubscribed', 'r3')
) as t(id, list_id, email_address, status, _airbyte_raw_id);

create table raw_mailchimp.campaigns as
select * from (values ('c1', 'sent', 3), ('c2', 'save', 0)) as t(id, status, emails_sent);

create table raw_mailchimp.email_activity as
select campaign_id, email_id, action, "timestamp"::timestamptz as "timestamp"
from (values
    ('c1', 'm1', 'open', '2024-01-01 10:00:00+00'),
    ('c1', 'm1', 'click', '2024-01-01 10:01:00+00'),
    ('c1', 'm2', 'bounce', '2024-01-01 10:00:00+00')
) as t(campaign_id, email_id, action, "timestamp");

create table raw_hubspot.contacts as
select * from (values ('1', 'ann@example.com'), ('2', 'bob@example.com'))
    as t(id, properties_email);

create table raw_hubspot.deals as
select * from (values ('10', 'closedwon', '500.0'))
    as t(id, properties_dealstage, properties_amount);

create table {MART} as
select
    campaign_id,
    recipients::bigint as recipients,
    unique_opens::bigint as unique_opens,
    unique_clicks::bigint as unique_clicks,
    unique_open_rate::double as unique_open_rate,
    unique_click_rate::double as unique_click_rate,
    won_revenue::decimal(18, 2) as won_revenue
from (values
    ('c1', 3, 2, 1, 2 / 3, 1 / 3, 500.0),
    ('c2', 0, 0, 0, null, null, 0.0)
) as t(campaign_id, recipients, unique_opens, unique_clicks, unique_open_rate, unique_click_rate,
       won_revenue);
"""


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(WAREHOUSE_SQL)
    return path


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    return tmp_path / "quality"


def corrupt(warehouse: Path, statement: str) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(statement)


def test_good_raw_tables_pass_and_data_docs_are_built(warehouse: Path, context_dir: Path) -> None:
    result = check_raw(warehouse, context_dir)

    assert result.success
    assert result.failures == []
    assert set(result.statistics) == {
        "raw_mailchimp.list_members",
        "raw_mailchimp.campaigns",
        "raw_mailchimp.email_activity",
        "raw_hubspot.contacts",
        "raw_hubspot.deals",
    }
    assert all(stats["unsuccessful_expectations"] == 0 for stats in result.statistics.values())
    assert result.data_docs.name == "index.html"
    assert result.data_docs.is_file()
    assert result.data_docs.is_relative_to(context_dir)


def test_good_mart_passes_in_any_schema(warehouse: Path, context_dir: Path) -> None:
    assert check_marts(warehouse, context_dir).success
    corrupt(
        warehouse,
        f"create schema main_marts; create table main_marts.campaign_performance "
        f"as select * from {MART}",
    )
    result = check_marts(warehouse, context_dir, "main_marts.campaign_performance")
    assert list(result.statistics) == ["main_marts.campaign_performance"]


# Each defect below breaks exactly one expectation. One run per group holds all of them: it shows
# that every table is validated before the failure is raised, and keeps this file fast (GX spends
# about a second per table rendering Data Docs).
RAW_DEFECTS = {
    "duplicate key": (
        "insert into raw_mailchimp.campaigns values ('c1', 'sent', 3)",
        "raw_mailchimp.campaigns: expect_column_values_to_be_unique(column='id'): "
        "2 unexpected, e.g. ['c1', 'c1']",
    ),
    "duplicate compound key": (
        "insert into raw_mailchimp.list_members values "
        "('m1', 'l1', 'ann@example.com', 'subscribed', 'r4')",
        "raw_mailchimp.list_members: expect_compound_columns_to_be_unique("
        "column_list=['id', 'list_id'])",
    ),
    "null key": (
        "update raw_hubspot.deals set id = null",
        "raw_hubspot.deals: expect_column_values_to_not_be_null(column='id'): 1 unexpected",
    ),
    "unknown action": (
        "update raw_mailchimp.email_activity set action = 'forward' where action = 'click'",
        "raw_mailchimp.email_activity: expect_column_values_to_be_in_set(column='action', "
        "value_set=['open', 'click', 'bounce']): 1 unexpected, e.g. ['forward']",
    ),
    "empty table": (
        "delete from raw_hubspot.contacts",
        "raw_hubspot.contacts: expect_table_row_count_to_be_between(min_value=1",
    ),
}
MART_DEFECTS = {
    "rate above 1": (
        f"update {MART} set unique_open_rate = 1.5 where campaign_id = 'c1'",
        f"{MART}: expect_column_values_to_be_between(column='unique_open_rate', min_value=0.0, "
        "max_value=1.0): 1 unexpected, e.g. [1.5]",
    ),
    "negative revenue": (
        f"update {MART} set won_revenue = -1 where campaign_id = 'c2'",
        f"{MART}: expect_column_values_to_be_between(column='won_revenue', min_value=0.0",
    ),
    "more clicks than recipients": (
        f"update {MART} set unique_clicks = 4 where campaign_id = 'c1'",
        f"{MART}: expect_column_pair_values_a_to_be_greater_than_b(column_A='recipients', "
        "column_B='unique_clicks', or_equal=True): 1 unexpected, e.g. [(3, 4)]",
    ),
    "null key": (
        f"update {MART} set campaign_id = null where campaign_id = 'c2'",
        f"{MART}: expect_column_values_to_not_be_null(column='campaign_id')",
    ),
}


def test_bad_raw_data_fails_naming_every_failed_expectation(
    warehouse: Path, context_dir: Path
) -> None:
    for statement, _ in RAW_DEFECTS.values():
        corrupt(warehouse, statement)
    with pytest.raises(QualityCheckFailed, match="data-quality checks failed") as failure:
        check_raw(warehouse, context_dir)

    message = str(failure.value)
    for defect, (_, expected) in RAW_DEFECTS.items():
        assert expected in message, defect
    result = failure.value.result
    assert not result.success
    assert len(result.failures) == len(RAW_DEFECTS)
    assert result.statistics["raw_mailchimp.campaigns"]["unsuccessful_expectations"] == 1
    assert result.data_docs.is_file()


def test_bad_mart_fails_naming_every_failed_expectation(warehouse: Path, context_dir: Path) -> None:
    for statement, _ in MART_DEFECTS.values():
        corrupt(warehouse, statement)
    with pytest.raises(QualityCheckFailed) as failure:
        check_marts(warehouse, context_dir)

    for defect, (_, expected) in MART_DEFECTS.items():
        assert expected in str(failure.value), defect
    assert len(failure.value.result.failures) == len(MART_DEFECTS)
