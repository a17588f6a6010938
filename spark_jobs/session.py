"""The one place that builds a SparkSession, so every job and test runs with the same settings."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

# Delta Lake, the lake's table format. Delta 4.4.0 is built for Spark 4.2.0 (its pom's spark-sql
# dependency), which is why pyproject.toml pins pyspark==4.2.0: a Delta release runs only on the
# Spark minor version it was built for. The jar comes from Maven Central through Spark's own
# package mechanism; the driver hands it to the executors, so a cluster needs nothing installed.
DELTA_PACKAGE = "io.delta:delta-spark_2.13:4.4.0"
# Resolved jars are cached inside the project's tool folder (git-ignored): a second run needs no
# network.
IVY_CACHE = Path(__file__).resolve().parent.parent / ".tools" / "ivy"

# Local mode runs on a laptop's few cores with small data: Spark's default of 200 shuffle partitions
# would spend most of a run scheduling near-empty tasks. On a cluster the cluster's defaults apply.
LOCAL_SHUFFLE_PARTITIONS = 4


def build_session(
    app_name: str, master: str, *, shuffle_partitions: int | None = None
) -> SparkSession:
    """Return a SparkSession for ``master`` (``local[*]``, ``spark://host:7077``, ...).

    - UTC session time zone: event timestamps are instants, and dates derived from them
      (``event_date``) must not depend on the machine's zone.
    - Parquet timestamps as INT64 microseconds (not Spark's legacy INT96), so DuckDB and dbt read
      them as ``TIMESTAMP WITH TIME ZONE``.
    - Delta Lake's jars (:data:`DELTA_PACKAGE`, cached in :data:`IVY_CACHE`) and its SQL extension
      and catalog, so ``MERGE``, ``DESCRIBE HISTORY`` and ``RESTORE`` work on the lake's tables.
    - In local mode the driver listens on 127.0.0.1 only.
    - No web UI and no console progress bars: jobs here are short, the UI's port clashes when
      tests and jobs run together, and the orchestrator's logs should hold the job's summary only.

    If a session already exists in this process (tests), Spark returns it with these runtime
    settings applied.
    """
    if shuffle_partitions is None and master.startswith("local"):
        shuffle_partitions = LOCAL_SHUFFLE_PARTITIONS
    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.jars.packages", DELTA_PACKAGE)
        .config("spark.jars.ivy", str(IVY_CACHE))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
    )
    if shuffle_partitions is not None:
        # Delta rebuilds a table's state from its log before every read and commit in 50
        # partitions by default (spark.databricks.delta.snapshotPartitions): on a laptop's few cores
        # that made each commit of a small table cost 5 s instead of 1 s (measured on 2 cores).
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions)).config(
            "spark.databricks.delta.snapshotPartitions", str(shuffle_partitions)
        )
    if master.startswith("local"):
        # In local mode nothing outside this machine talks to the driver: its RPC and block
        # manager ports listen on loopback only (by default they bind the host's address).
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config(
            "spark.driver.host", "127.0.0.1"
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
