"""Run inside bench/pyairbyte/.venv (PyAirbyte's own environment): our source-mailchimp into
PyAirbyte's DuckDB cache. Prints one JSON line, ``{"records": N}``.

    bench/pyairbyte/.venv/bin/python bench/pyairbyte/run_pyairbyte.py \\
        --executable .venv/bin/source-mailchimp --config cfg.json --cache cache.duckdb
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DO_NOT_TRACK", "1")  # PyAirbyte's telemetry
# No connector registry to reach (only PyPI is): the connector is a local executable.
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executable", required=True)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--cache", required=True, type=Path)
    parser.add_argument("--stream", default="list_members")
    args = parser.parse_args()

    import airbyte as ab
    from airbyte.caches import DuckDBCache

    args.cache.unlink(missing_ok=True)
    source = ab.get_source(
        "source-mailchimp",
        config=json.loads(args.config.read_text()),
        local_executable=args.executable,
        streams=[args.stream],
    )
    cache = DuckDBCache(db_path=str(args.cache), schema_name="main")
    source.read(cache=cache, force_full_refresh=True)
    records = len(cache[args.stream])
    print(json.dumps({"records": records}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
