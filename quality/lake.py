"""Read the lake's silver Parquet for Great Expectations: the events, and their partitions.

The lake is read with pyarrow, not Spark: the checks need a DataFrame, not a cluster, and pyarrow
reads the hive-partitioned layout (``event_date=YYYY-MM-DD``) that the Spark job publishes.
"""

from __future__ import annotations

from datetime import date
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


def bronze_event_days(lake_root: Path) -> list[date]:
    """The UTC days of the valid events landed in bronze: the partitions silver must have.

    A calendar day without any event (no campaign activity) needs no partition, so completeness is
    measured against what arrived, not against every day between the first and the last.
    """
    import duckdb

    bronze = Path(lake_root) / "bronze" / "email_activity"
    if not any(bronze.glob("ingest_date=*/*.parquet")):
        return []
    files = str(bronze / "ingest_date=*" / "*.parquet").replace("'", "''")
    with duckdb.connect() as connection:
        connection.execute("set timezone = 'UTC'")
        rows = connection.execute(
            f"""
            select distinct cast(try_cast("timestamp" as timestamptz) as date) as day
            from read_parquet('{files}')
            where campaign_id is not null and email_id is not null
                and action in ('open', 'click', 'bounce')
                and try_cast("timestamp" as timestamptz) is not null
            order by day
            """
        ).fetchall()
    return [row[0] for row in rows]


def partition_table(expected: list[date], present: list[date]) -> pd.DataFrame:
    """One row per day that has events in bronze, with whether silver has its partition."""
    found = set(present)
    return pd.DataFrame(
        {"event_date": expected, "is_present": [day in found for day in expected]},
        columns=["event_date", "is_present"],
    )


def read_lake_table(lake_root: Path, check: TableCheck) -> pd.DataFrame:
    """The DataFrame a lake check validates (its ``table`` names which)."""
    directory = Path(lake_root) / SILVER_EMAIL_ACTIVITY_PATH
    if check.table == SILVER_EMAIL_ACTIVITY_PARTITIONS:
        return partition_table(bronze_event_days(lake_root), partition_days(directory))
    if check.table == SILVER_EMAIL_ACTIVITY:
        if not partition_days(directory):
            return pd.DataFrame()  # the row-count expectation then says what is wrong
        dataset = ds.dataset(directory, format="parquet", partitioning="hive")
        return dataset.to_table().to_pandas()
    raise ValueError(f"no lake table {check.table!r}")
