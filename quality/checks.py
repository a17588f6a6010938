"""The checks the pipeline runs: on the raw tables after loading, on the marts after dbt.

Each call validates its tables with Great Expectations, updates the Data Docs under ``context_dir``
and raises :class:`QualityCheckFailed` when an expectation fails, which fails the pipeline run.
"""

from __future__ import annotations

from pathlib import Path

from quality.runner import QualityCheckFailed, QualityResult, run_checks
from quality.suites import DEFAULT_CAMPAIGN_PERFORMANCE, mart_checks, raw_checks

__all__ = ["QualityCheckFailed", "QualityResult", "check_marts", "check_raw"]


def check_raw(warehouse_path: Path, context_dir: Path) -> QualityResult:
    """Check the raw MailChimp and HubSpot tables in the DuckDB file at ``warehouse_path``."""
    return run_checks(raw_checks(), warehouse_path, context_dir)


def check_marts(
    warehouse_path: Path,
    context_dir: Path,
    campaign_performance: str = DEFAULT_CAMPAIGN_PERFORMANCE,
) -> QualityResult:
    """Check the campaign-performance mart, ``schema.table`` as dbt writes it."""
    return run_checks(mart_checks(campaign_performance), warehouse_path, context_dir)
