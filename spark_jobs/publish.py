"""Publishing a lake table so that readers only ever see complete runs.

A table is a folder::

    <table>/_versions/<version>/...   one complete copy of the table per run (Parquet files)
    <table>/_manifest.json            which version is current: written last, replaced atomically
    <table>/current -> _versions/<version>   the same pointer as a symlink, for readers with globs

A job writes a new version beside the published one, then commits it by replacing the manifest
with ``os.replace`` (one atomic rename). A job killed before that leaves the previous version
current and whole; readers that resolved the previous version keep reading it, because the
version before the current one is kept until the next commit.

Why not Spark's dynamic partition overwrite: it renames one partition at a time, so a reader (or
a crash) can see some partitions from the new run and some from the old, and a version cannot
be rolled back. A table format (Delta, Iceberg) would give the same snapshot semantics, but its
jars come from Maven, which this project cannot reach. See spark_jobs/README.md.

This module imports nothing from Spark except for type checking, so that the pipeline and dbt's
tooling can call :func:`current_path` without starting a JVM.

One writer per table at a time: the orchestrator guarantees it (one run of a job per table); a
second concurrent writer could have its unfinished version removed by the other's clean-up.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

MANIFEST = "_manifest.json"
VERSIONS = "_versions"
CURRENT = "current"


class NotPublished(FileNotFoundError):
    """The table has no manifest: no run has published it yet."""


def read_manifest(table: str | Path) -> dict[str, Any]:
    """The current manifest of ``table``."""
    path = Path(table) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NotPublished(f"{table} has not been published (no {MANIFEST})") from None


def current_path(table: str | Path) -> str:
    """The absolute folder of the current version of ``table``: what a reader should read."""
    return str((Path(table) / read_manifest(table)["path"]).resolve())


def read_published(spark: SparkSession, table: str | Path, schema: StructType) -> DataFrame:
    """The current version of ``table``, read with its declared schema (never inferred: an empty
    version has no file to infer from)."""
    return spark.read.schema(schema).parquet(current_path(table))


def publish(
    df: DataFrame,
    table: str | Path,
    *,
    partition_by: str | None = None,
    run_date: dt.date | None = None,
) -> dict[str, Any]:
    """Write ``df`` as a new version of ``table`` and make it current; return the new manifest.

    The version is written with ``errorifexists``: a version folder is never overwritten.
    """
    table = Path(table)
    version = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
    folder = table / VERSIONS / version
    if partition_by is None:
        df.write.mode("errorifexists").parquet(str(folder))
    else:
        # One task per partition value, so each partition is one file rather than one per task.
        writer = df.repartition(partition_by).write.mode("errorifexists")
        writer.partitionBy(partition_by).parquet(str(folder))
    return commit(table, version, partition_by=partition_by, run_date=run_date)


def commit(
    table: Path, version: str, *, partition_by: str | None, run_date: dt.date | None
) -> dict[str, Any]:
    """Make ``version`` current: manifest first (the commit point), then the ``current`` link."""
    try:
        previous = read_manifest(table)["version"]
    except NotPublished:
        previous = None
    manifest = {
        "version": version,
        "path": f"{VERSIONS}/{version}",
        "previous": previous,
        "partition_by": partition_by,
        "run_date": run_date.isoformat() if run_date else None,
        "published_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    staged = table / f".{MANIFEST}.{uuid.uuid4().hex}"
    with staged.open("w") as file:
        json.dump(manifest, file, indent=2)
        file.flush()
        os.fsync(file.fileno())
    os.replace(staged, table / MANIFEST)
    link = table / f".{CURRENT}.{uuid.uuid4().hex}"
    link.symlink_to(manifest["path"], target_is_directory=True)
    os.replace(link, table / CURRENT)
    _fsync_directory(table)
    _remove_old_versions(table, keep={version, previous})
    return manifest


def _remove_old_versions(table: Path, keep: set[str | None]) -> None:
    """Delete versions older than the previous one, and those abandoned by killed runs."""
    for folder in (table / VERSIONS).iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
