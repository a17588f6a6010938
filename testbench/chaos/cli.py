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
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import orjson
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
        "--jobs",
        type=int,
        default=1,
        help="seeds run at once, each in a process of its own (its log in the work folder)",
    )
    parser.add_argument("--outcomes", type=Path, help=argparse.SUPPRESS)  # a job's results
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
    if args.jobs > 1 and len(seeds) > 1:
        runs = run_seeds_at_once(seeds, args, argv, console)
    for seed in seeds:
        if seed in runs:
            continue
        clock = time.monotonic()
        try:
            outcomes = run_seed(seed, args, only, console)
        except Exception as error:  # one seed's crash is a failure of that seed, not the end
            outcomes = [Outcome("suite", "FAILED", detail=f"{type(error).__name__}: {error}")]
        runs[seed] = (outcomes, time.monotonic() - clock)
        if args.outcomes:  # a job of run_seeds_at_once: its parent prints the tables
            args.outcomes.write_bytes(orjson.dumps([asdict(o) for o in outcomes]))
            return 0
        table.render(outcomes, console, title=f"Chaos scenarios, seed {seed}")
    runs = {seed: runs[seed] for seed in seeds}  # in the order given, however they finished
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


def run_seeds_at_once(
    seeds: list[int], args: argparse.Namespace, argv: list[str] | None, console: Console
) -> dict[int, tuple[list[Outcome], float]]:
    """``--jobs N``: each seed in a process of its own (``--seed S``, the same other options),
    N at a time; the tables are printed here, in the seeds' order. On a busy machine most of a
    seed's time is waiting (backoffs, timeouts, start-ups), so seeds overlap well."""
    passed, given = [], list(argv if argv is not None else sys.argv[1:])
    while given:  # the options that are not the parent's own
        word = given.pop(0)
        if word.split("=")[0] in ("--seeds", "--random-seeds", "--seed", "--jobs", "--docs"):
            if "=" not in word:
                given.pop(0)  # its value
            continue
        passed.append(word)
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="chaos-jobs-"))
    folder.mkdir(parents=True, exist_ok=True)
    waiting, running = list(seeds), {}
    runs: dict[int, tuple[list[Outcome], float]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < args.jobs:
                seed = waiting.pop(0)
                log, outcomes = folder / f"seed-{seed}.log", folder / f"seed-{seed}.json"
                command = [sys.executable, "-m", "testbench.chaos", "--seed", str(seed)]
                command += ["--outcomes", str(outcomes), *passed]
                with log.open("wb") as output:
                    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
                running[seed] = (process, time.monotonic(), log, outcomes)
                console.print(f"chaos: seed {seed} started (log: {log})")
            for seed, (process, clock, log, outcomes) in list(running.items()):
                if process.poll() is None:
                    continue
                del running[seed]
                if outcomes.exists():
                    found = [Outcome(**o) for o in orjson.loads(outcomes.read_bytes())]
                else:  # the job itself crashed
                    tail = log.read_text(errors="replace").strip().splitlines()[-1:]
                    detail = f"the seed's process exited {process.returncode}: {' '.join(tail)}"
                    found = [Outcome("suite", "FAILED", detail=detail[:300])]
                runs[seed] = (found, time.monotonic() - clock)
                console.print(f"chaos: seed {seed} done in {runs[seed][1] / 60:.1f} min")
            time.sleep(1)  # a poll of the jobs (minutes each)
    finally:
        for process, *_ in running.values():  # stopped early: the jobs unwind (SIGTERM)
            process.terminate()
            process.wait()
    for seed in seeds:
        table.render(runs[seed][0], console, title=f"Chaos scenarios, seed {seed}")
    return runs


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
        try:
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
        except BaseException:  # stopped, or crashed: the pipeline part stops too
            if pipeline_part is not None:
                from testbench.chaos.pipeline_runs import STOPPING

                STOPPING.set()
            raise
        if pipeline_part is not None:
            try:
                outcomes += pipeline_part.result()
            except Exception as error:  # reported as a failure beside the API part's outcomes
                detail = f"{type(error).__name__}: {error}"
                outcomes.append(Outcome("pipeline_scenarios", "FAILED", detail=detail[:300]))
    return outcomes
