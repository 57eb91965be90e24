"""`shopsim gameday SCENARIO` and `shopsim scenarios`: the command line of a game day.

SCENARIO is a file, or the name of a built-in scenario (`shopsim scenarios` lists them).
A bad scenario is refused before anything starts (exit status 2). A run that started ends
with its verdict, and exits with the verdict's status (shopsim/verdict/exitcodes.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsim.argtypes import bounded, db_url, directory, storefront_url
from shopsim.faults.api import is_loopback
from shopsim.gameday.bundled import builtin_scenarios, resolve_scenario, scenarios_dir
from shopsim.gameday.fields import MAX_TIME_SCALE, fmt_s
from shopsim.gameday.loader import ScenarioError, load_scenario
from shopsim.gameday.run import GameDay
from shopsim.prom.server import PrometheusError, prometheus_binary
from shopsim.verdict.cli import verdict_of
from shopsim.verdict.rundir import RunDirError


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--time-scale must be a number, not {text!r}") from None
    if not 0 < value <= MAX_TIME_SCALE:
        raise argparse.ArgumentTypeError(
            f"--time-scale must be more than 0 and at most {MAX_TIME_SCALE:g}"
        )
    return value


def _target(text: str) -> int:
    """A loopback storefront URL -> its port (the store's port base)."""
    host, port = storefront_url(text)
    if not (is_loopback(host) or host == "localhost"):
        raise argparse.ArgumentTypeError(
            f"--target {host} is not a loopback address; load only goes to loopback"
        )
    return port


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim gameday` on the CLI."""
    game = sub.add_parser("gameday", help="run a scenario: store, load, faults, samples, report")
    game.add_argument(
        "scenario", help="a scenario file, or a built-in scenario's name (shopsim scenarios)"
    )
    game.add_argument(
        "--out",
        type=directory("--out"),
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
        type=bounded("--load-processes", 1, 64, int),
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
    game.add_argument(
        "--db",
        type=db_url,
        default=None,
        metavar="URL",
        help="SQLAlchemy URL for the store this run starts, on fresh tables "
        "(default: SQLite files in the run directory)",
    )
    game.add_argument(
        "--prometheus",
        action="store_true",
        help="run a Prometheus (on PATH) for the run with shopsim's rules; the report shows "
        "which alerts it fired beside the verdict's",
    )
    port_base(game)


def add_scenarios_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `shopsim scenarios` on the CLI."""
    sub.add_parser("scenarios", help="list the built-in scenarios: shopsim gameday NAME runs one")


def cmd_scenarios(args: argparse.Namespace) -> int:
    """Print each built-in scenario's name, duration and one line about it."""
    found = builtin_scenarios()
    if not found:
        print(f"shopsim scenarios: none found in {scenarios_dir()}", file=sys.stderr)
        return 1
    print(f"built-in scenarios (in {scenarios_dir()}); run one with: shopsim gameday NAME\n")
    width = max(len(name) for name in found)
    broken = 0
    for name, path in found.items():
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            broken += 1
            print(f"  {name:<{width}}  cannot be loaded: {str(err).splitlines()[0]}")
            continue
        print(f"  {name:<{width}}  {fmt_s(scenario.duration_s):>5}  {scenario.headline()}")
    return 1 if broken else 0


def cmd_gameday(args: argparse.Namespace) -> int:
    """Validate the scenario, run it, print where the results are."""
    if args.db and args.target is not None:
        print(
            "shopsim gameday: --db is for the store the game day starts; a --target store "
            "keeps its own data (give one or the other)",
            file=sys.stderr,
        )
        return 2
    if args.prometheus:
        try:
            prometheus_binary()
        except PrometheusError as err:
            print(f"shopsim gameday: --prometheus: {err}", file=sys.stderr)
            return 2
    try:
        path = resolve_scenario(args.scenario)
        scenario = load_scenario(path)
    except ScenarioError as err:
        print(f"shopsim gameday: {err}", file=sys.stderr)
        return 2
    crashes = [i for i, f in enumerate(scenario.faults) if f.type == "crash"]
    if args.target is not None and crashes:
        print(
            f"shopsim gameday: {path}: faults[{crashes[0]}]: a crash fault needs the store the "
            "game day starts (it restarts what crashes); --target's store may have no supervisor",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    game = GameDay(
        scenario,
        path,
        out=args.out,
        db_url=args.db,
        time_scale=args.time_scale,
        load_processes=args.load_processes,
        port_base=args.target if args.target is not None else args.port_base,
        use_running=args.target is not None,
        prometheus=args.prometheus,
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
    print(f"\n{outcome.status}{reason} after {wall:.0f}s; results in {game.run_dir.root}\n")
    if game.load_started_at is None:  # nothing ran: no verdict to give
        return outcome.exit_code
    try:
        return verdict_of(game.run_dir.root, echo=lambda line: print(line, flush=True))
    except RunDirError as err:
        print(f"shopsim gameday: no verdict: {err}", file=sys.stderr)
        return outcome.exit_code
