"""Peer: dlt's REST API source loading the same members into DuckDB (Parquet loader files).

dlt as its documentation shows it: a declarative ``rest_api_source`` (audiences, then the members
of each with offset paging), ``pipeline.run`` into a DuckDB file; dlt flattens nested objects
into columns and lists (``tags``) into child tables, its normal behaviour.

    python -m testbench.benchmark.dlt_peer --base-url http://127.0.0.1:8799/3.0 --apikey ... \\
        --workdir ...
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from testbench.benchmark.measure import emit
from testbench.benchmark.paging import EXCLUDE_FIELDS, PAGE_SIZE, STREAM


def load(base_url: str, apikey: str, workdir: Path) -> int:
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    shutil.rmtree(workdir / "dlt", ignore_errors=True)
    database = workdir / "dlt.duckdb"
    database.unlink(missing_ok=True)
    source = rest_api_source(
        {
            "client": {
                "base_url": base_url.rstrip("/") + "/",
                "auth": {"type": "http_basic", "username": "anystring", "password": apikey},
            },
            "resource_defaults": {"write_disposition": "replace"},
            "resources": [
                {
                    "name": "lists",
                    "endpoint": {
                        "path": "lists",
                        "params": {"count": 1000},
                        "data_selector": "lists",
                        "paginator": "single_page",
                    },
                },
                {
                    "name": STREAM,
                    "endpoint": {
                        "path": "lists/{resources.lists.id}/members",
                        "params": {"exclude_fields": EXCLUDE_FIELDS},
                        "data_selector": "members",
                        "paginator": {
                            "type": "offset",
                            "limit": PAGE_SIZE,
                            "offset_param": "offset",
                            "limit_param": "count",
                            "total_path": "total_items",
                        },
                    },
                },
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_members",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="raw_mailchimp",
        pipelines_dir=str(workdir / "dlt"),
    )
    pipeline.run(source.with_resources(STREAM), loader_file_format="parquet")
    with pipeline.sql_client() as client:
        return client.execute_sql(f"SELECT count(*) FROM {STREAM}")[0][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--apikey", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    emit({"records": load(args.base_url, args.apikey, args.workdir)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
