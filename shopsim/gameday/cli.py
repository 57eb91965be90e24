"""`shopsim gameday SCENARIO`: the command line of a game day.

Exit status: 0 the scenario ran to its end; 3 a stop condition ended it; 1 an error (the store
would not start, a service died, Locust failed); 2 a bad scenario file or argument; 130
interrupted. A bad scenario is refused before anything starts.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shopsim.faults.api import is_loopback
from shopsim.gameday.loader import ScenarioError, load_scenario
from shopsim.gameday.run import GameDay


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--time-scale must be a number, not {text!r}") from None
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError("--time-scale must be more than 0 and at most 1000")
    return value


def _processes(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError("--load-processes must be between 1 and 64")
    return int(text)


def _target(text: str) -> int:
    """A loopback storefront URL -> its port (the store's port base)."""
    parts = urlsplit(text)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise argparse.ArgumentTypeError("--target must look like http://127.0.0.1:8100")
    if not (is_loopback(parts.hostname) or parts.hostname == "localhost"):
        raise argparse.ArgumentTypeError(
            f"--target {parts.hostname} is not a loopback address; load only goes to loopback"
        )
    return parts.port


def add_parser(sub: argparse._SubParsersAction, port_base: Callable[..., None]) -> None:
    """Register `shopsim gameday` on the CLI."""
    game = sub.add_parser("gameday", help="run a scenario: store, load, faults, samples, report")
    game.add_argument("scenario", type=Path, help="a scenario file (see loadtests/scenarios/)")
    game.add_argument(
        "--out",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="where run directories go (default ./runs)",
    )
    game.add_argument(
        "--time-scale",
        type=_scale,
        default=1.0,
        metavar="X",
        help="run X times faster: every time in the scenario is divided by X",
    )
    game.add_argument(
        "--load-processes",
        type=_processes,
        default=1,
        metavar="N",
        help="Locust worker processes (default 1)",
    )
    game.add_argument(
        "--target",
        type=_target,
        default=None,
        metavar="URL",
        help="use the store already running at this storefront URL",
    )
    port_base(game)


def cmd_gameday(args: argparse.Namespace) -> int:
    """Validate the scenario, run it, print where the results are."""
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as err:
        print(f"shopsim gameday: {err}", file=sys.stderr)
        return 2
    started = time.monotonic()
    game = GameDay(
        scenario,
        args.scenario,
        out=args.out,
        time_scale=args.time_scale,
        load_processes=args.load_processes,
        port_base=args.target if args.target is not None else args.port_base,
        use_running=args.target is not None,
        echo=lambda line: print(line, flush=True),
    )

    def on_signal(signum: int, frame: Any) -> None:
        if game.interrupted.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: unwind now (cleanup still runs)
        print("\nshopsim gameday: stopping and cleaning up (Ctrl-C again to hurry)", flush=True)
        game.interrupt()  # the run ends at its next safe point, within about a second

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(
            f"game day: {scenario.name} (seed {scenario.seed}, time scale "
            f"{args.time_scale:g}, about {game.duration_s:.0f}s) -> {game.run_dir.root}",
            flush=True,
        )
        outcome = game.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    wall = time.monotonic() - started
    reason = f": {outcome.reason}" if outcome.reason else ""
    print(f"\n{outcome.status}{reason} after {wall:.0f}s; results in {game.run_dir.root}")
    return outcome.exit_code
