"""The suite's command line.

``python -m testbench.chaos [--seeds a,b,c | --random-seeds N] [--scale N] [--only a,b]
[--no-pipeline]``: the suite once per seed, a table per seed, then the total over the seeds. A
whole run (every scenario, full scale) writes its total to docs/reliability.md. Ends non-zero on
any FAILED scenario, lost record, duplicate or secret found.
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from pipeline.config import PROJECT_ROOT
from testbench.chaos import table
from testbench.chaos.runner import Outcome, run_sync_scenarios
from testbench.chaos.scenarios import API_SCENARIOS, CHECKS, CRASH_SCENARIOS, PIPELINE_SCENARIOS

SMALL = {"scale": 60, "kills": 10}
FULL = {"scale": 300, "kills": 12}
NAMES = [s.name for s in API_SCENARIOS] + [*CRASH_SCENARIOS, *PIPELINE_SCENARIOS, *CHECKS]


def _seeds(text: str) -> list[int]:
    try:
        return [int(seed) for seed in text.split(",") if seed.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes integers, a,b,c: not {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbench.chaos", description=__doc__)
    parser.add_argument("--small", action="store_true", help="the small scale `make test` runs")
    parser.add_argument("--scale", type=int, help="people in the mock's world")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--seed", type=int, help="one seed of the world and the faults (7)")
    chosen.add_argument("--seeds", type=_seeds, help="several seeds, a,b,c: one run each")
    chosen.add_argument(
        "--random-seeds", type=int, metavar="N", help="N seeds chosen at random now (printed)"
    )
    parser.add_argument("--kills", type=int, help="kill -9 points per source (at least 10)")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument(
        "--no-pipeline", action="store_true", help="skip the Airflow, dbt and lake scenarios"
    )
    parser.add_argument("--workdir", type=Path, help="keep every warehouse and log here")
    parser.add_argument(
        "--docs",
        type=Path,
        default=PROJECT_ROOT / "docs" / "reliability.md",
        help="where a whole run writes its total (default docs/reliability.md)",
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    if only and only - set(NAMES):
        parser.error(
            f"no scenario {', '.join(sorted(only - set(NAMES)))}; known: {', '.join(NAMES)}"
        )
    if args.random_seeds:
        seeds = [random.SystemRandom().randrange(1, 100_000) for _ in range(args.random_seeds)]
    else:
        seeds = args.seeds or [args.seed if args.seed is not None else 7]
    # Stopped with SIGTERM, unwind as for Ctrl-C: the mock server and connectors are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(width=max(Console().width, 150))
    console.print(f"chaos: seeds {','.join(map(str, seeds))}")
    started = time.monotonic()
    runs: dict[int, tuple[list[Outcome], float]] = {}
    for seed in seeds:
        clock = time.monotonic()
        try:
            outcomes = run_seed(seed, args, only, console)
        except Exception as error:  # one seed's crash is a failure of that seed, not the end
            outcomes = [Outcome("suite", "FAILED", detail=f"{type(error).__name__}: {error}")]
        seconds = time.monotonic() - clock
        runs[seed] = (outcomes, seconds)
        table.render(outcomes, console, title=f"Chaos scenarios, seed {seed}")
    total = table.render_total(runs, console)
    console.print(
        f"chaos: seeds {','.join(map(str, seeds))} in {(time.monotonic() - started) / 60:.1f} min"
    )
    if not (only or args.small or args.no_pipeline or args.scale or args.kills):
        # The seeds as given back, so the line reruns the same (no machine-specific paths).
        command = f"`python -m testbench.chaos --seeds {','.join(map(str, seeds))}`"
        if args.random_seeds:
            command += f" (make chaos: {args.random_seeds} seeds chosen at random)"
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        table.write_docs(args.docs, table.markdown(runs, command, when, time.monotonic() - started))
        console.print(f"chaos: the total is in {args.docs}")
    failed = total["failed"] or total["lost"] or total["duplicates"] or total["secrets"]
    return 1 if failed else 0


def run_seed(
    seed: int, args: argparse.Namespace, only: set[str] | None, console: Console
) -> list[Outcome]:
    """Every scenario wanted, for one seed: the API and crash part, and beside it the pipeline's."""
    preset = SMALL if args.small else FULL
    scale = args.scale or preset["scale"]
    kills = args.kills or preset["kills"]
    console.print(f"chaos: seed {seed}, scale {scale}, {kills} kill points per source")

    def progress(outcome: Outcome) -> None:
        console.print(f"  {outcome.name}: {outcome.status} ({outcome.seconds:.0f} s)")

    workdir = args.workdir / str(seed) if args.workdir else None
    if workdir:
        workdir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pipeline_part = None
        if not args.no_pipeline and not args.small:
            # The pipeline scenarios (minutes of Airflow, dbt and Spark, with a mock server and a
            # data folder of their own) run beside the API scenarios, which mostly wait on backoffs.
            from testbench.chaos.pipeline_runs import run_pipeline_scenarios

            pipeline_part = pool.submit(
                run_pipeline_scenarios, seed, scale, only, workdir, progress
            )
        outcomes = run_sync_scenarios(
            seed,
            scale,
            kills,
            only,
            workdir,
            kill_sources=("mailchimp",) if args.small else ("mailchimp", "hubspot"),
            small=args.small,
            progress=progress,
        )
        if pipeline_part is not None:
            try:
                outcomes += pipeline_part.result()
            except Exception as error:  # reported as a failure beside the API part's outcomes
                detail = f"{type(error).__name__}: {error}"
                outcomes.append(Outcome("pipeline_scenarios", "FAILED", detail=detail[:300]))
    return outcomes
