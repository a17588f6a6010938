"""The silver events' schema, written once: Spark, the quality checks and the tests read it here.

Silver email_activity is the lake's contract between the Spark jobs and whatever reads the lake
(docs/contracts.md, Lake, says it in words; a test holds that page to this module). Its columns are
plain Python, so that readers without Spark (the Great Expectations checks, the tests' pyarrow
fixtures) take them without importing pyspark; :func:`spark_schema` builds Spark's ``StructType``
for the jobs and :func:`arrow_schema` pyarrow's schema of the Parquet files Spark writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql.types import StructType

ColumnType = Literal["string", "boolean", "date", "timestamp"]


@dataclass(frozen=True)
class LakeColumn:
    """One column of a lake table. ``timestamp`` is a UTC instant (microseconds in Parquet)."""

    name: str
    type: ColumnType
    # A partition column lives in the folder names (``event_date=2024-03-01/``), not in the files.
    partition: bool = False


# What silver holds, in order: one row per event, unique on
# (campaign_id, email_id, action, event_at).
SILVER_EMAIL_ACTIVITY: tuple[LakeColumn, ...] = (
    LakeColumn("campaign_id", "string"),
    LakeColumn("list_id", "string"),
    LakeColumn("email_id", "string"),
    LakeColumn("email_address", "string"),
    LakeColumn("action", "string"),
    LakeColumn("bounce_type", "string"),
    LakeColumn("url", "string"),
    LakeColumn("ip", "string"),
    LakeColumn("event_at", "timestamp"),
    LakeColumn("first_ingest_date", "date"),
    LakeColumn("is_late", "boolean"),
    LakeColumn("event_date", "date", partition=True),
)
# Gold email_events, what dbt reads: silver's events, each with its session.
GOLD_EMAIL_EVENTS: tuple[LakeColumn, ...] = (
    *SILVER_EMAIL_ACTIVITY,
    LakeColumn("session_id", "string"),
)


def column_names(columns: tuple[LakeColumn, ...]) -> list[str]:
    """The names of ``columns``, partition columns included, in order."""
    return [column.name for column in columns]


def spark_schema(columns: tuple[LakeColumn, ...]) -> StructType:
    """Spark's schema of a table: how the jobs write it and read it back (never inferred)."""
    # Imported here, not at the top: quality/ and the tests read this module without Spark.
    from pyspark.sql import types

    spark_types = {
        "string": types.StringType(),
        "boolean": types.BooleanType(),
        "date": types.DateType(),
        "timestamp": types.TimestampType(),
    }
    return types.StructType(
        [types.StructField(column.name, spark_types[column.type]) for column in columns]
    )


def arrow_schema(columns: tuple[LakeColumn, ...]) -> pa.Schema:
    """The schema of the table's Parquet files as Spark writes them: partition columns left out."""
    import pyarrow as pa

    arrow_types = {
        "string": pa.string(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema(
        [(column.name, arrow_types[column.type]) for column in columns if not column.partition]
    )
