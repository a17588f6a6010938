"""Run table checks with Great Expectations 1.x on tables read from the DuckDB warehouse.

GX's SQL data source does not work on DuckDB, so each table is read into a pandas DataFrame (only
the columns its expectations use) and validated as a dataframe asset. Every table gets the full 1.x
chain: a data asset and a batch definition, an expectation suite, a validation definition, and a
checkpoint whose ``UpdateDataDocsAction`` adds the result to the Data Docs site. A dataframe is a
run-time batch parameter and a checkpoint passes the same parameters to all its validation
definitions, so each table has its own checkpoint.

Suites and checkpoints are saved in a file context (``<context_dir>/gx``) each run, so what the
code expects is what the Data Docs show.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    successful_expectations, unsuccessful_expectations and success_percent.
    """

    success: bool
    statistics: dict[str, dict[str, Any]]
    failures: list[str]
    data_docs: Path


def open_context(context_dir: Path) -> FileDataContext:
    """The file context in ``context_dir`` (created on first use), without analytics or bars."""
    context = gx.get_context(mode="file", project_root_dir=context_dir)
    context.config.analytics_enabled = False
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    return context


def read_table(warehouse_path: Path, check: TableCheck) -> pd.DataFrame:
    """The columns of ``check.table`` that its expectations read (read-only: dbt may be writing)."""
    columns = ", ".join(f'"{column}"' for column in check.columns) or "*"
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        return connection.sql(f"select {columns} from {check.table}").df()


def _plain(value: Any) -> Any:
    """A numpy scalar (or a tuple of them) as plain Python, to print ``3`` not ``np.int32(3)``."""
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value.item() if hasattr(value, "item") else value


def describe_failure(suite: str, result: Any) -> str:
    """One readable line for a failed expectation: what was expected, and what was found."""
    config = result.expectation_config
    arguments = ", ".join(
        f"{name}={value!r}" for name, value in config.kwargs.items() if name != "batch_id"
    )
    found = result.result or {}
    if "unexpected_count" in found:
        examples = [_plain(value) for value in found.get("partial_unexpected_list", [])[:3]]
        detail = f"{found['unexpected_count']} unexpected, e.g. {examples}"
    elif result.exception_info.get("raised_exception"):
        detail = f"error: {result.exception_info.get('exception_message')}"
    else:
        detail = f"observed {found.get('observed_value')!r}"
    return f"{suite}: {config.type}({arguments}): {detail}"


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


def run_checks(checks: list[TableCheck], warehouse_path: Path, context_dir: Path) -> QualityResult:
    """Validate every table, then raise :class:`QualityCheckFailed` if any expectation failed.

    All tables are validated before raising, so one run reports every problem at once.
    """
    context = open_context(Path(context_dir))
    statistics: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for check in checks:
        result = validate(context, check, read_table(Path(warehouse_path), check))
        statistics[check.table] = dict(result.statistics)
        failures += [
            describe_failure(check.table, expectation)
            for expectation in result.results
            if not expectation.success
        ]
    (site,) = context.get_docs_sites_urls()
    quality = QualityResult(
        success=not failures,
        statistics=statistics,
        failures=failures,
        data_docs=Path(site["site_url"].removeprefix("file://")),
    )
    if failures:
        raise QualityCheckFailed(quality)
    return quality
