"""The marts' published snapshot: what the dashboards read, never the warehouse itself.

DuckDB allows one process to write a database file, and a reader in another process would hold
it open while the next run wants to write. So at the end of each successful run the marts (and
the few facts the data-quality page needs) are copied out as Parquet into a new folder::

    snapshots/<snapshot id>/<table>.parquet    one file per table
    snapshots/<snapshot id>/manifest.json      run id, when, each table's rows and columns
    snapshots/current -> <snapshot id>         swapped atomically (a symlink replaced by rename)

A reader that resolved ``current`` keeps its folder: the previous snapshot is kept when the next
one is published, older ones are removed. The dashboards (``dashboards/``) build from ``current``.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from pipeline.config import Settings

CURRENT = "current"
MANIFEST = "manifest.json"
KEEP = 2  # the current snapshot and the one before it (a reader may still be on it)

# What the data-quality page shows, computed in the warehouse at publishing time.
QUALITY_QUERIES = {
    "quarantine_by_reason": """
        select source_stream, quarantine_reason, count(*) as quarantined_rows
        from quarantine.quarantine_rows
        group by all
        order by source_stream, quarantine_reason
    """,
}
# Each source's raw tables, for freshness: the newest extraction time of any of its rows.
RAW_SCHEMAS = {
    "mailchimp": "raw_mailchimp",
    "hubspot": "raw_hubspot",
    "google_sheets": "raw_google_sheets",
}


def publish(settings: Settings, run_id: str) -> dict[str, Any]:
    """Write a new snapshot of the marts and make it ``current``; return its manifest."""
    import duckdb

    root = settings.snapshots_dir
    root.mkdir(parents=True, exist_ok=True)
    snapshot_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"  # sorts by time
    staging = root / f".{snapshot_id}.partial"
    staging.mkdir()
    tables: dict[str, Any] = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        if not marts:
            raise FileNotFoundError(
                f"no marts in {settings.warehouse_path}: run the pipeline first (make run)"
            )
        queries = {name: f"select * from marts.{name}" for name in marts}
        queries.update(QUALITY_QUERIES)
        queries["source_freshness"] = _freshness_query(con)
        for name, query in queries.items():
            path = staging / f"{name}.parquet"
            con.execute(f"copy ({query}) to '{path}' (format parquet)")
            described = con.execute(f"describe ({query})").fetchall()
            (rows,) = con.execute(f"select count(*) from read_parquet('{path}')").fetchone()
            tables[name] = {"rows": rows, "columns": [column for column, *_ in described]}
    path = staging / "quality_runs.parquet"
    tables["quality_runs"] = _write_quality_runs(settings.runs_dir, path)
    manifest = {
        "snapshot_id": snapshot_id,
        "run_id": run_id,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": tables,
    }
    (staging / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    _fsync_tree(staging)
    final = root / snapshot_id
    os.replace(staging, final)
    # Swap the pointer with one rename: a reader sees the old snapshot or the new one.
    link = root / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
    link.symlink_to(snapshot_id)
    os.replace(link, root / CURRENT)
    _fsync_dir(root)
    _remove_old(root)
    return {"snapshot": str(final), "tables": len(tables)}


def current(settings: Settings) -> Path:
    """The folder of the latest snapshot (its real path, stable while a reader uses it)."""
    link = settings.snapshots_dir / CURRENT
    if not link.exists():
        raise FileNotFoundError(
            f"no snapshot in {settings.snapshots_dir}: run the pipeline first (make run)"
        )
    return link.resolve()


def read_manifest(folder: Path) -> dict[str, Any]:
    return orjson.loads((folder / MANIFEST).read_bytes())


def _freshness_query(con) -> str:
    parts = []
    for source, schema in RAW_SCHEMAS.items():
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        ]
        for table in tables:
            parts.append(
                f"select '{source}' as source, '{table}' as stream, count(*) as rows, "
                f"max(_airbyte_extracted_at) as last_extracted_at from {schema}.{table}"
            )
    if not parts:
        return (
            "select null::varchar as source, null::varchar as stream, 0::bigint as rows, "
            "null::timestamptz as last_extracted_at where false"
        )
    return " union all ".join(parts)


def _write_quality_runs(runs_dir: Path, path: Path) -> dict[str, Any]:
    """The quality checks of the recorded runs (one row per run and suite), from the run logs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for log in sorted(runs_dir.glob("*.jsonl")) if runs_dir.exists() else []:
        for line in log.read_bytes().splitlines():
            entry = orjson.loads(line)
            if not entry["step"].startswith("check_"):
                continue
            for suite, counts in (entry.get("metrics", {}).get("statistics") or {}).items():
                rows.append(
                    {
                        "run": log.stem,
                        "stage": entry["step"].removeprefix("check_"),
                        "suite": suite,
                        "status": entry["status"],
                        "started_at": datetime.fromtimestamp(entry["started_at"], UTC),
                        "evaluated": counts.get("evaluated_expectations"),
                        "failed": counts.get("unsuccessful_expectations"),
                    }
                )
    schema = pa.schema(
        [
            ("run", pa.string()),
            ("stage", pa.string()),
            ("suite", pa.string()),
            ("status", pa.string()),
            ("started_at", pa.timestamp("us", tz="UTC")),
            ("evaluated", pa.int64()),
            ("failed", pa.int64()),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return {"rows": len(rows), "columns": schema.names}


def _remove_old(root: Path) -> None:
    keep = {(root / CURRENT).resolve().name}
    snapshots = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0] != "."),
        key=lambda p: p.name,
    )
    keep.update(p.name for p in snapshots[-KEEP:])
    for folder in snapshots:
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
    cutoff = time.time() - 3600  # abandoned partial folders of killed runs
    for partial in root.glob(".*.partial"):
        if partial.stat().st_mtime < cutoff:
            shutil.rmtree(partial, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
