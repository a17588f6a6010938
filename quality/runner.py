"""Run table checks with Great Expectations 1.x on tables read into pandas DataFrames.

GX's SQL data source does not work on DuckDB, so each warehouse table is read into a pandas
DataFrame (only the columns its expectations use) and validated as a dataframe asset; the lake's
Parquet is read with pyarrow (quality/lake.py) and validated the same way. Every table gets
the full 1.x chain: a data asset and a batch definition, an expectation suite, a validation
definition, and a checkpoint whose ``UpdateDataDocsAction`` adds the result to the Data Docs
site. A dataframe is a run-time batch parameter and a checkpoint passes the same parameters to all
its validation definitions, so each table has its own checkpoint.

Suites and checkpoints are saved in a file context (``<context_dir>/gx``) each run, so what the
code expects is what the Data Docs show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.data_context import FileDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig

from quality.suites import TableCheck

DATA_SOURCE = "warehouse"


class QualityCheckFailed(Exception):
    """Some expectations failed; the message lists them, one per line."""

    def __init__(self, result: QualityResult) -> None:
        self.result = result
        lines = [f"data-quality checks failed ({len(result.failures)} failed expectations):"]
        lines += [f"  - {failure}" for failure in result.failures]
        lines.append(f"Data Docs: {result.data_docs}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class QualityResult:
    """The outcome of one group of checks.

    ``statistics`` maps each suite (a table name) to GX's counts: evaluated_expectations,
    successful_expectations, unsuccessful_expectations and success_percent. ``outcomes`` has one
    entry per expectation (what CI reports as test cases); ``row_counts`` the rows of each table.
    """

    success: bool
    statistics: dict[str, dict[str, Any]]
    failures: list[str]
    data_docs: Path
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result: the suite (table), the expectation as text, and what was found."""

    suite: str
    expectation: str
    success: bool
    detail: str


def open_context(context_dir: Path) -> FileDataContext:
    """The file context in ``context_dir`` (created on first use), without analytics or bars."""
    context = gx.get_context(mode="file", project_root_dir=context_dir)
    context.config.analytics_enabled = False
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context


def read_table(warehouse_path: Path, check: TableCheck) -> pd.DataFrame:
    """The columns of ``check.table`` that its expectations read (read-only: dbt may be writing).

    A column the table does not have is left out rather than failing the query, so that the
    expectation on it fails and names it. Derived columns are computed in DuckDB.
    """
    schema, _, table = check.table.rpartition(".")
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        existing = {
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ?",
                [schema or "main", table],
            ).fetchall()
        }
        selected = [f'"{column}"' for column in check.columns if column in existing]
        selected += [f'{expression} as "{name}"' for name, expression in check.derived.items()]
        return connection.sql(f"select {', '.join(selected) or '*'} from {check.table}").df()


def _plain(value: Any) -> Any:
    """A numpy scalar (or a tuple of them) as plain Python, to print ``3`` not ``np.int32(3)``."""
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value.item() if hasattr(value, "item") else value


def describe_expectation(result: Any) -> str:
    """The expectation as one line: ``expect_...(column='id')``."""
    config = result.expectation_config
    arguments = ", ".join(
        f"{name}={value!r}" for name, value in config.kwargs.items() if name != "batch_id"
    )
    return f"{config.type}({arguments})"


def describe_finding(result: Any) -> str:
    """What an expectation found: unexpected values, an error, or the observed value."""
    found = result.result or {}
    if "unexpected_count" in found:
        examples = [_plain(value) for value in found.get("partial_unexpected_list", [])[:3]]
        detail = f"{found['unexpected_count']} unexpected, e.g. {examples}"
    elif result.exception_info.get("raised_exception"):
        detail = f"error: {result.exception_info.get('exception_message')}"
    else:
        detail = f"observed {_plain(found.get('observed_value'))!r}"
    return detail


def validate(
    context: FileDataContext, check: TableCheck, table: pd.DataFrame
) -> ExpectationSuiteValidationResult:
    """Save the check's suite, validation definition and checkpoint, then run it on ``table``."""
    data_source = context.data_sources.add_or_update_pandas(DATA_SOURCE)
    asset = data_source.add_dataframe_asset(check.table)
    batch = asset.add_batch_definition_whole_dataframe("whole_table")
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=check.table, expectations=check.expectations)
    )
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=check.table, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=check.table,
            validation_definitions=[validation],
            actions=[UpdateDataDocsAction(name="update_data_docs")],
            result_format={"result_format": "SUMMARY"},
        )
    )
    outcome = checkpoint.run(batch_parameters={"dataframe": table})
    (result,) = outcome.run_results.values()
    return result


def run_checks(
    checks: list[TableCheck],
    read: Callable[[TableCheck], pd.DataFrame],
    context_dir: Path,
    raise_on_failure: bool = True,
) -> QualityResult:
    """Validate every table that ``read`` returns for each check.

    All tables are validated before raising :class:`QualityCheckFailed` (unless
    ``raise_on_failure`` is false: CI reports the result instead), so one run reports every problem.
    """
    context = open_context(Path(context_dir))
    statistics: dict[str, dict[str, Any]] = {}
    outcomes: list[ExpectationOutcome] = []
    row_counts: dict[str, int] = {}
    for check in checks:
        table = read(check)
        row_counts[check.table] = len(table)
        result = validate(context, check, table)
        statistics[check.table] = dict(result.statistics)
        outcomes += [
            ExpectationOutcome(
                suite=check.table,
                expectation=describe_expectation(expectation),
                success=expectation.success,
                detail="" if expectation.success else describe_finding(expectation),
            )
            for expectation in result.results
        ]
    (site,) = context.get_docs_sites_urls()
    quality = QualityResult(
        success=all(outcome.success for outcome in outcomes),
        statistics=statistics,
        failures=[
            f"{outcome.suite}: {outcome.expectation}: {outcome.detail}"
            for outcome in outcomes
            if not outcome.success
        ],
        data_docs=Path(site["site_url"].removeprefix("file://")),
        outcomes=outcomes,
        row_counts=row_counts,
    )
    if quality.failures and raise_on_failure:
        raise QualityCheckFailed(quality)
    return quality
