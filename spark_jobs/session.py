"""The one place that builds a SparkSession, so every job and test runs with the same settings."""

from __future__ import annotations

from pyspark.sql import SparkSession

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
    )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if master.startswith("local"):
        # In local mode nothing outside this machine talks to the driver: its RPC and block
        # manager ports listen on loopback only (by default they bind the host's address).
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config(
            "spark.driver.host", "127.0.0.1"
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
