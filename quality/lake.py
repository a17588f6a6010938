"""Read the lake's silver Parquet for Great Expectations: the events, and their partitions.

The lake is read with pyarrow, not Spark: the checks need a DataFrame, not a cluster, and pyarrow
reads the hive-partitioned layout (``event_date=YYYY-MM-DD``) that the Spark job publishes.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from quality.suites import SILVER_EMAIL_ACTIVITY, SILVER_EMAIL_ACTIVITY_PARTITIONS, TableCheck

# A published table's current version (docs/contracts.md): never the folder itself, whose
# _versions hold old and unfinished copies.
SILVER_EMAIL_ACTIVITY_PATH = Path("silver") / "email_activity" / "current"
PARTITION_PREFIX = "event_date="


def partition_days(directory: Path) -> list[date]:
    """The days that have a partition directory under ``directory`` (empty if it is missing)."""
    if not directory.is_dir():
        return []
    return sorted(
        date.fromisoformat(path.name.removeprefix(PARTITION_PREFIX))
        for path in directory.iterdir()
        if path.is_dir() and path.name.startswith(PARTITION_PREFIX)
    )


def partition_table(days: list[date]) -> pd.DataFrame:
    """One row per day from the first to the last partition, with whether it is present."""
    present = set(days)
    spine = [days[0] + timedelta(n) for n in range((days[-1] - days[0]).days + 1)] if days else []
    return pd.DataFrame(
        {"event_date": spine, "is_present": [day in present for day in spine]},
        columns=["event_date", "is_present"],
    )


def read_lake_table(lake_root: Path, check: TableCheck) -> pd.DataFrame:
    """The DataFrame a lake check validates (its ``table`` names which)."""
    directory = Path(lake_root) / SILVER_EMAIL_ACTIVITY_PATH
    if check.table == SILVER_EMAIL_ACTIVITY_PARTITIONS:
        return partition_table(partition_days(directory))
    if check.table == SILVER_EMAIL_ACTIVITY:
        if not partition_days(directory):
            return pd.DataFrame()  # the row-count expectation then says what is wrong
        dataset = ds.dataset(directory, format="parquet", partitioning="hive")
        return dataset.to_table().to_pandas()
    raise ValueError(f"no lake table {check.table!r}")
