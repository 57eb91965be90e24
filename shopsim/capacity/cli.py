"""`shopsim capacity SCENARIO`: the search, printed, and written as capacity.json.

Exit status: 0 when the search ended with a valid answer; 1 when no rate held, the answer is
invalid (the load generator was the limit) or a step could not run; 2 for argument mistakes;
130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsim.argtypes import bounded, directory
from shopsim.argtypes import seed as seed_number
from shopsim.capacity.render import answer, row, table, to_json
from shopsim.capacity.search import search
from shopsim.capacity.step import StepError, Stepper
from shopsim.capacity.variant import CapacityError, rates_of, raw_of
from shopsim.gameday.bundled import resolve_scenario
from shopsim.gameday.fields import MAX_RATE
from shopsim.gameday.loader import ScenarioError, load_scenario
from shopsim.runner import StackError


@dataclass(frozen=True)
class Plan:
    step_s: float  # how long each steady step runs
    tolerance: float  # bisection stops when first bad / last good <= 1 + tolerance
    max_steps: int


QUICK = Plan(step_s=15.0, tolerance=0.20, max_steps=8)
FULL = Plan(step_s=45.0, tolerance=0.10, max_steps=14)


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim capacity` on the CLI."""
    p = sub.add_parser(
        "capacity", help="the highest arrival rate at which a scenario's SLOs hold (own store)"
    )
    p.add_argument("scenario", help="a scenario file or a built-in scenario's name (open model)")
    p.add_argument("--quick", action="store_true", help="15 s steps, 20%% tolerance: minutes")
    p.add_argument(
        "--out",
        type=directory("--out"),
        default=Path("runs"),
        metavar="DIR",
        help="where the capacity directory goes (default ./runs)",
    )
    p.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    p.add_argument(
        "--seed", type=seed_number, default=None, metavar="N", help="default: the scenario's"
    )
    p.add_argument(
        "--start-rate",
        type=bounded("--start-rate", 0.25, MAX_RATE),
        default=None,
        metavar="R",
        help="arrivals/s of the first step (default: the scenario's first stage rate)",
    )
    p.add_argument(
        "--max-rate",
        type=bounded("--max-rate", 0.25, 2000.0),
        default=500.0,
        metavar="R",
        help="never try more arrivals/s than this (default 500)",
    )
    port_base(p)


def cmd_capacity(args: argparse.Namespace) -> int:
    """Validate, search, print the table and the answer, write capacity.json."""
    try:
        path = resolve_scenario(args.scenario)
        scenario = load_scenario(path)
        start, peak = rates_of(scenario)
        raw = raw_of(path)
    except (ScenarioError, CapacityError) as err:
        print(f"shopsim capacity: scenario {args.scenario!r}: {err}", file=sys.stderr)
        return 2
    start = args.start_rate or start
    if args.max_rate < start:
        print(
            f"shopsim capacity: --max-rate {args.max_rate:g} is below the start rate {start:g}",
            file=sys.stderr,
        )
        return 2
    plan = QUICK if args.quick else FULL
    seed = scenario.seed if args.seed is None else args.seed
    out = args.out / time.strftime(f"capacity-{scenario.name}-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    echo = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    stepper = Stepper(raw, out, seed, plan.step_s, args.port_base)

    def judge(rate: float, phase: str) -> Any:
        step = stepper(rate, phase)
        echo(row(step))
        return step

    def on_signal(signum: int, frame: Any) -> None:
        echo("shopsim capacity: stopping after cleaning up the current step")
        stepper.interrupt()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    echo(
        f"capacity of {scenario.name} (seed {seed}): {plan.step_s:g} s steps from {start:g}/s, "
        f"tolerance {plan.tolerance:.0%}; scenario peak {peak:g}/s -> {out}"
    )
    try:
        found = search(
            judge, start, tolerance=plan.tolerance, max_rate=args.max_rate, max_steps=plan.max_steps
        )
    except KeyboardInterrupt:
        echo("interrupted: no answer")
        return 130
    except (StepError, StackError, CapacityError) as exc:
        print(f"shopsim capacity: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    seconds = time.monotonic() - started
    meta = {
        "scenario": scenario.name,
        "scenario_file": str(path),
        "seed": seed,
        "peak_rate": peak,
        "start_rate": start,
        "step_s": plan.step_s,
        "tolerance": plan.tolerance,
        "answer": answer(found, peak, scenario.name),
        "seconds": round(seconds, 1),
    }
    data = to_json(found, meta)
    (out / "capacity.json").write_text(json.dumps(data, indent=2) + "\n")
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print("\n" + table(found.steps))
        print(f"\n{meta['answer']}")
        if found.first_bad is not None and found.first_bad.note:
            print(f"evidence at {found.first_bad.rate:g}/s: {found.first_bad.note}")
        print(f"{len(found.steps)} steps in {seconds:.0f} s; written to {out}/capacity.json")
    return 0 if found.rate is not None and found.valid else 1
