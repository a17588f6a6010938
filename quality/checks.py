"""The checks the pipeline runs: on the raw tables after loading, on the lake after Spark, and on
the marts after dbt.

Each call validates its tables with Great Expectations, updates the Data Docs under ``context_dir``
and raises :class:`QualityCheckFailed` when an expectation fails, which fails the pipeline run.
``raise_on_failure=False`` returns the failed result instead (quality.ci reports it).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import duckdb

from quality.lake import read_lake_table
from quality.runner import QualityCheckFailed, QualityResult, read_table, run_checks
from quality.suites import DEFAULT_CAMPAIGN_PERFORMANCE, lake_checks, mart_checks, raw_checks

__all__ = ["QualityCheckFailed", "QualityResult", "check_lake", "check_marts", "check_raw"]

# The raw tables' row counts at the last check that passed, the baseline of the volume rule.
RAW_COUNTS_FILE = "raw_row_counts.json"
OPTIONAL_RAW_TABLES = {"raw_mailchimp.email_activity"}


def check_raw(
    warehouse_path: Path, context_dir: Path, raise_on_failure: bool = True
) -> QualityResult:
    """Check the raw MailChimp and HubSpot tables in the DuckDB file at ``warehouse_path``.

    Volumes are compared with the counts of the last run that passed, kept in
    ``<context_dir>/raw_row_counts.json``; only a passing run replaces them, so one bad load
    cannot lower the bar for the next.
    """
    counts_file = Path(context_dir) / RAW_COUNTS_FILE
    previous = json.loads(counts_file.read_text()) if counts_file.is_file() else {}
    with duckdb.connect(str(warehouse_path), read_only=True) as connection:
        present = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
    # Email activity may be landed straight into the lake's bronze layer instead (check_lake
    # covers it there); every other raw table must be present.
    checks = [
        check
        for check in raw_checks(previous)
        if check.table in present or check.table not in OPTIONAL_RAW_TABLES
    ]
    result = run_checks(
        checks,
        partial(read_table, Path(warehouse_path)),
        context_dir,
        raise_on_failure=raise_on_failure,
    )
    if result.success:
        counts_file.write_text(json.dumps(result.row_counts, indent=2, sort_keys=True) + "\n")
    return result


def check_lake(lake_root: Path, context_dir: Path, raise_on_failure: bool = True) -> QualityResult:
    """Check the lake's silver email activity under ``lake_root``: schema, keys, no missing day."""
    return run_checks(
        lake_checks(),
        partial(read_lake_table, Path(lake_root)),
        context_dir,
        raise_on_failure=raise_on_failure,
    )


def check_marts(
    warehouse_path: Path,
    context_dir: Path,
    campaign_performance: str = DEFAULT_CAMPAIGN_PERFORMANCE,
    raise_on_failure: bool = True,
) -> QualityResult:
    """Check the marts; ``campaign_performance`` is ``schema.table`` as dbt writes it, and the
    other marts are looked for in the same schema."""
    return run_checks(
        mart_checks(campaign_performance),
        partial(read_table, Path(warehouse_path)),
        context_dir,
        raise_on_failure=raise_on_failure,
    )
