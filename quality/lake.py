"""Read the lake's silver Delta table for Great Expectations: the events, and their partitions.

The lake is read with delta-rs (the ``deltalake`` package), not Spark: the checks need a DataFrame,
not a cluster, and delta-rs reads the table's current version through its transaction log (never a
glob of its folder, which also holds files of older versions and of runs killed before their
commit).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from quality.suites import SILVER_EMAIL_ACTIVITY, SILVER_EMAIL_ACTIVITY_PARTITIONS, TableCheck

SILVER_EMAIL_ACTIVITY_PATH = Path("silver") / "email_activity"
PARTITION_COLUMN = "event_date"


def current_version(table: Path):  # -> deltalake.DeltaTable | None
    """The Delta table at ``table`` as of its current version, or None if it has none yet."""
    from deltalake import DeltaTable

    if not DeltaTable.is_deltatable(str(table)):
        return None
    return DeltaTable(str(table))


def partition_days(table: Path) -> list[date]:
    """The event dates that have a partition in the table's current version (empty if none)."""
    delta = current_version(table)
    if delta is None:
        return []
    return sorted(
        {date.fromisoformat(partition[PARTITION_COLUMN]) for partition in delta.partitions()}
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
    table = Path(lake_root) / SILVER_EMAIL_ACTIVITY_PATH
    if check.table == SILVER_EMAIL_ACTIVITY_PARTITIONS:
        return partition_table(bronze_event_days(lake_root), partition_days(table))
    if check.table == SILVER_EMAIL_ACTIVITY:
        delta = current_version(table)
        if delta is None:
            return pd.DataFrame()  # the row-count expectation then says what is wrong
        return delta.to_pyarrow_table().to_pandas()
    raise ValueError(f"no lake table {check.table!r}")
