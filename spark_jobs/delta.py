"""The lake's tables are Delta Lake tables: the transaction log is the publish.

A table is a folder holding Parquet files and ``_delta_log/``, the ordered list of commits. A
writer adds its files, then commits a new version by writing the next ``_delta_log/<n>.json``
(created only if absent: one atomic step). Readers see a whole version or the one before; a job
killed before its commit leaves the table at its previous version, and its orphan files are never
read (``VACUUM`` removes them later). Every version stays readable (time travel) until ``VACUUM``
removes the files it needs, which it does only for files older than :data:`RETENTION`.

This module holds the writes and reads the jobs share; readers outside Spark (dbt, Great
Expectations, the chaos suite) read the same tables with the ``deltalake`` package (delta-rs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

# Time travel promised: a week of versions. A VACUUM keeps the files any version of the last week
# needs: Delta's default ``delta.deletedFileRetentionDuration`` (7 days), which Delta 4.4 uses in
# place of a RETAIN clause. (No VACUUM is scheduled yet: old files stay, every version readable.)
RETENTION = "7 days"
LOG = "_delta_log"


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
    return last_commit(df.sparkSession, table)


def history(spark: SparkSession, table: str | Path, limit: int | None = None) -> list[dict]:
    """The versions of ``table``, newest first: version, timestamp, operation and its metrics."""
    query = f"DESCRIBE HISTORY delta.`{Path(table).resolve()}`"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    rows = spark.sql(query).select(
        "version", "timestamp", "operation", "operationParameters", "operationMetrics"
    )
    return [
        {
            "version": row["version"],
            "timestamp": row["timestamp"].isoformat(),
            "operation": row["operation"],
            "parameters": dict(row["operationParameters"] or {}),
            "metrics": dict(row["operationMetrics"] or {}),
        }
        for row in rows.collect()
    ]


def last_commit(spark: SparkSession, table: str | Path) -> dict[str, Any]:
    """The newest version of ``table`` and the operation that made it."""
    return history(spark, table, limit=1)[0]
