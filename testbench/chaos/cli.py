"""The suite's command line: ``python -m chaos [--scale N] [--only a,b] [--no-pipeline]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console

from testbench.chaos import table
from testbench.chaos.runner import Outcome, run_sync_scenarios

SMALL = {"scale": 60, "kills": 10}
FULL = {"scale": 300, "kills": 12}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__)
    parser.add_argument("--small", action="store_true", help="the small scale `make test` runs")
    parser.add_argument("--scale", type=int, help="people in the mock's world")
    parser.add_argument("--seed", type=int, default=7, help="seed of the world and the faults")
    parser.add_argument("--kills", type=int, help="kill -9 points per source (at least 10)")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument(
        "--no-pipeline", action="store_true", help="skip the Airflow, dbt and lake scenarios"
    )
    parser.add_argument("--workdir", type=Path, help="keep every warehouse and log here")
    args = parser.parse_args(argv)
    # Stopped with SIGTERM, unwind as for Ctrl-C: the mock server and connectors are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    preset = SMALL if args.small else FULL
    scale = args.scale or preset["scale"]
    kills = args.kills or preset["kills"]
    only = set(args.only.split(",")) if args.only else None
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(width=max(Console().width, 150))
    console.print(f"chaos: seed {args.seed}, scale {scale}, {kills} kill points per source")

    def progress(outcome: Outcome) -> None:
        console.print(f"  {outcome.name}: {outcome.status} ({outcome.seconds:.0f} s)")

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    pipeline_part = None
    if not args.no_pipeline and not args.small:
        # The pipeline scenarios (minutes of Airflow, dbt and Spark, with a mock server and a
        # data folder of their own) run beside the API scenarios, which mostly wait on backoffs.
        from testbench.chaos.pipeline_runs import run_pipeline_scenarios

        pool = ThreadPoolExecutor(max_workers=1)
        pipeline_part = pool.submit(
            run_pipeline_scenarios, args.seed, scale, only, args.workdir, progress
        )
    outcomes = run_sync_scenarios(
        args.seed,
        scale,
        kills,
        only,
        args.workdir,
        kill_sources=("mailchimp",) if args.small else ("mailchimp", "hubspot"),
        small=args.small,
        progress=progress,
    )
    if pipeline_part is not None:
        outcomes += pipeline_part.result()
    total = table.render(outcomes, console)
    failed = total["failed"] or total["lost"] or total["duplicates"] or total["secrets"]
    return 1 if failed else 0
