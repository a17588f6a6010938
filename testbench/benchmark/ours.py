"""Our connectors: ``source-mailchimp read | destination-duckdb write``, as the pipeline runs them.

The members stream only (the same records as every other comparator), with the pipeline's own
orchestration (:func:`pipeline.run_sync`: three processes, the state committed by the
destination) and the pipeline's sync mode for it (incremental, deduplicated on its key). A run
without ``--incremental`` starts from an empty warehouse and no state; with it, the saved state
is kept and only what changed is read.

    python -m bench.ours --base-url http://127.0.0.1:8799/3.0 --apikey ... --workdir data/bench/x
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.sync import configure_catalog, discover, run_sync
from testbench.benchmark.measure import emit
from testbench.benchmark.paging import STREAM


def sync(base_url: str, apikey: str, workdir: Path, incremental: bool, source: str) -> int:
    database, state = workdir / "ours.duckdb", workdir / "ours_state.json"
    if not incremental:
        database.unlink(missing_ok=True)
        state.unlink(missing_ok=True)
        (workdir / "ours_catalog.json").unlink(missing_ok=True)
    config = {"apikey": apikey, "base_url": base_url}
    # The pipeline keeps the discovered catalog beside the state (pipeline.steps.extract_load):
    # a full sync discovers, an incremental one reuses it.
    discovered = discover(source, config, cache=workdir / "ours_catalog.json")
    catalog = configure_catalog(discovered, [STREAM])
    result = run_sync(
        source,
        config,
        {"destination_path": str(database), "schema": "raw_mailchimp"},
        catalog,
        state_path=state,
    )
    return result.records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--apikey", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--source", default="source-mailchimp", help="the source's console script")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    emit({"records": sync(args.base_url, args.apikey, args.workdir, args.incremental, args.source)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
