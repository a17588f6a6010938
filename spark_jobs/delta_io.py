"""The lake's tables are Delta Lake tables: the transaction log is the publish.

A table is a folder holding Parquet files and ``_delta_log/``, the ordered list of commits. A
writer adds its files, then commits a new version by writing the next ``_delta_log/<n>.json``
(created only if absent: one atomic step). Readers see a whole version or the one before; a job
killed before its commit leaves the table at its previous version, and its orphan files are never
read (``VACUUM`` removes them later). Every version stays readable (time travel) until ``VACUUM``
removes the files it needs, which it does only for files older than :data:`RETENTION_HOURS`.

This module holds the writes and reads the jobs share (named ``delta_io``, not ``delta``:
``spark-submit`` puts a job's folder first on ``sys.path``, where a ``delta.py`` would hide Delta's
own ``delta`` package); readers outside Spark (dbt, Great
Expectations, the chaos suite) read the same tables with the ``deltalake`` package (delta-rs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

# The lake's Delta tables under its root, by the names people use (`pipeline lake history
# gold/email_events`): spark_jobs/lake.py writes each of them.
LAKE_TABLES = (
    "silver/email_activity",
    "quarantine/email_activity",
    "gold/email_events",
    "gold/campaign_engagement",
    "gold/campaign_daily_engagement",
    "gold/person_engagement",
    "gold/person_sessions",
)
# Time travel promised: a week of versions. The lake's maintenance (pipeline.steps.maintain_lake)
# vacuums with this retention: it removes only the files that no version of the last week needs.
RETENTION_HOURS = 7 * 24
LOG = "_delta_log"
# The column a merge's source uses to say whether a row replaces or deletes its key (never stored).
OP = "_merge_op"


class NotPublished(FileNotFoundError):
    """The folder holds no Delta table: no run has written it yet."""


def is_table(table: str | Path) -> bool:
    """Whether ``table`` holds a Delta table (a transaction log with at least one commit)."""
    log = Path(table) / LOG
    return log.is_dir() and any(log.glob("*.json"))


def read_published(spark: SparkSession, table: str | Path, schema: StructType) -> DataFrame:
    """The current version of ``table``, with the columns of ``schema`` (in its order).

    The table's own schema is Delta's; selecting the declared columns keeps readers independent of
    a column added later (schema evolution) and fails loudly if a declared column is missing.
    """
    if not is_table(table):
        raise NotPublished(f"{table} is not a Delta table yet (no {LOG})")
    return spark.read.format("delta").load(str(table)).select(*schema.fieldNames())


def publish(df: DataFrame, table: str | Path, *, partition_by: str | None = None) -> dict[str, Any]:
    """Replace the contents of ``table`` with ``df`` in one Delta commit; return the commit.

    A Delta overwrite is a new version that removes the old files from the log and adds the new
    ones in the same commit: never a moment when the table is empty, and the previous version
    stays readable with ``versionAsOf``. When ``partition_by`` is given, each partition value is
    written by one task, so each partition is one file rather than one per task.
    """
    writer = df
    if partition_by is not None:
        writer = df.repartition(partition_by)
    out = writer.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by is not None:
        out = out.partitionBy(partition_by)
    out.save(str(table))
    return last_commit(table)


def merge_rows(
    df: DataFrame,
    table: str | Path,
    key: list[str],
    *,
    partition_by: str | None = None,
    prune: str | None = None,
    insert_only: bool = False,
    update: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Upsert ``df`` into ``table`` on ``key`` in one Delta commit (``MERGE``); return the commit.

    A row whose key is new is inserted; a row whose key is there is updated only if a value
    changes, so merging the same rows twice changes nothing (a replayed batch is harmless). A
    matched row takes the source row's values, except the columns ``update`` gives a SQL
    expression for (over ``t``, the table's row, and ``s``, the source's): those are kept from
    the table when the other columns are the same. With ``insert_only`` a key already there is
    left as it is. ``prune`` names the table's partition column: the merge reads and rewrites
    only the partitions of the rows that change. A table that does not exist yet is created
    with ``df``'s rows.
    """
    if not is_table(table):
        return publish(df, table, partition_by=partition_by)
    from pyspark.sql import functions as F

    spark = df.sparkSession
    current = read_published(spark, table, df.schema)
    if prune is not None:  # only the partitions the rows fall in can hold them
        current = current.where(F.col(prune).isin(_partitions(df, prune)))
    compared = key if insert_only else [c for c in df.columns if c not in (update or {})]
    changes = _unlike(df, current, compared).persist()
    try:
        if changes.isEmpty():
            return unchanged(table)
        on = _on(key, prune, _partitions(changes, prune))
        merge = _delta_table(spark, table).alias("t").merge(changes.alias("s"), on)
        if not insert_only:
            values = {c: f"s.`{c}`" for c in df.columns} | (update or {})
            merge = merge.whenMatchedUpdate(condition=_differs(values, key), set=values)
        merge.whenNotMatchedInsertAll().execute()
    finally:
        changes.unpersist()
    return last_commit(table)


def replace_slice(
    df: DataFrame,
    table: str | Path,
    key: list[str],
    slice_by: list[str],
    touched: DataFrame,
    *,
    partition_by: str | None = None,
) -> dict[str, Any]:
    """Make the rows of ``table`` in the ``touched`` slices equal ``df``, in one Delta commit.

    ``df`` holds the recomputed rows of every slice ``touched`` names (its ``slice_by`` values):
    a row of ``df`` that is not in the table as it is gets inserted or updated on ``key``; a row
    of the table in a touched slice that ``df`` no longer has is deleted. Rows that did not
    change are left alone, and with ``partition_by`` only the partitions holding a change are
    rewritten. A gold table is updated this way for the campaigns, people or days that new
    events touch.
    """
    if not is_table(table):
        return publish(df, table, partition_by=partition_by)
    from pyspark.sql import functions as F

    spark = df.sparkSession
    current = read_published(spark, table, df.schema).join(touched, slice_by, "left_semi")
    stale = current.join(df.select(*key), key, "left_anti").withColumn(OP, F.lit("delete"))
    upserts = _unlike(df, current, df.columns).withColumn(OP, F.lit("upsert"))
    source = upserts.unionByName(stale).persist()
    try:
        if source.isEmpty():
            return unchanged(table)
        columns = {c: f"s.`{c}`" for c in df.columns}
        (
            _delta_table(spark, table)
            .alias("t")
            .merge(source.alias("s"), _on(key, partition_by, _partitions(source, partition_by)))
            .whenMatchedDelete(condition=f"s.{OP} = 'delete'")
            .whenMatchedUpdate(condition=f"s.{OP} = 'upsert'", set=columns)
            .whenNotMatchedInsert(condition=f"s.{OP} = 'upsert'", values=columns)
            .execute()
        )
    finally:
        source.unpersist()
    return last_commit(table)


def _unlike(df: DataFrame, current: DataFrame, columns: list[str]) -> DataFrame:
    """The rows of ``df`` that no row of ``current`` equals on ``columns`` (nulls equal nulls).

    Delta's ``MERGE`` rewrites every file holding a matched row, even when the update leaves the
    row as it was; merging only the rows that change keeps a day's merge to the files it changes.
    """
    from functools import reduce

    from pyspark.sql import functions as F

    same = [F.col(f"s.`{c}`").eqNullSafe(F.col(f"t.`{c}`")) for c in columns]
    return df.alias("s").join(current.alias("t"), reduce(lambda a, b: a & b, same), "left_anti")


def _partitions(source: DataFrame, column: str | None) -> list[str] | None:
    """The values of partition ``column`` in ``source`` (None: no partition to prune by)."""
    if column is None:
        return None
    return sorted(str(row[0]) for row in source.select(column).distinct().collect())


def _on(key: list[str], column: str | None, partitions: list[str] | None) -> str:
    """The merge condition: ``key`` equal (nulls equal nulls), within ``column``'s ``partitions``
    if given."""
    on = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in key)
    if column is None or partitions is None:
        return on
    if not partitions:  # nothing changes: a condition no row meets, so the merge reads nothing
        return "false"
    return f"t.`{column}` IN ({', '.join(repr(v) for v in partitions)}) AND {on}"


def _differs(values: dict[str, str], key: list[str]) -> str:
    """SQL true when an update would change a non-key column of the table's row ``t``."""
    changes = [f"t.`{c}` <=> ({value})" for c, value in values.items() if c not in key]
    if not changes:
        return "false"
    return "NOT (" + " AND ".join(changes) + ")"


def _delta_table(spark: SparkSession, table: str | Path):  # -> delta.tables.DeltaTable
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, str(table))


def unchanged(table: str | Path) -> dict[str, Any]:
    """What a merge that had nothing to change returns: no commit, the table's current version."""
    return {"version": last_commit(table)["version"], "operation": None, "metrics": {}}


def last_commit(table: str | Path) -> dict[str, Any]:
    """The newest version of ``table``, the operation that made it and its metrics.

    Read from the log with delta-rs, in the driver: a Spark ``DESCRIBE HISTORY`` is a job of its
    own, and a run asks this after every commit.
    """
    from deltalake import DeltaTable

    commit = DeltaTable(str(table)).history(1)[0]
    return {
        "version": commit["version"],
        "operation": commit.get("operation"),
        "metrics": dict(commit.get("operationMetrics") or {}),
    }
