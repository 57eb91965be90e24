"""`shopsim accuracy [--quick] [--out DIR] [--json] [CASE...]`: the accuracy suite.

Runs each case of loadtests/accuracy/ as a game day, builds its blind verdict, computes the
BARO-style baseline on the same samples, and prints per case the true root, shopsim's culprit
and the baseline's top three with hits at 1 and 3, then AC@1 and AC@3 of both (accuracy.py).
Exit status: 0 when every case ran, 1 when one could not run, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from shopsim.argtypes import directory
from shopsim.gameday.bundled import loadtests_dir
from shopsim.gameday.cli import _scale
from shopsim.gameday.loader import ScenarioError, load_scenario
from shopsim.gameday.run import GameDay
from shopsim.verdict.accuracy import Incident, incidents_of, scores
from shopsim.verdict.report import build_report, write_report
from shopsim.verdict.rundir import RunDirError, load_run

# One case of each kind: a request fault, a resource fault, a logic fault, two incidents, a surge.
QUICK = (
    *("latency-payment", "error-cart", "cpu-burn-inventory"),
    *("duplicate-charge", "two-incidents", "surge-payment"),
)


def cases_dir() -> Path:
    """Where the accuracy cases are: beside the built-in scenarios."""
    return loadtests_dir() / "accuracy"


def all_cases() -> dict[str, Path]:
    """Case name (the file's stem) -> its scenario file."""
    return {p.stem: p for p in sorted(cases_dir().glob("*.yaml")) if p.stem != "roots"}


def declared_roots(scenario_name: str, culprit: str | None) -> list[str]:
    """The case's true root causes, one per incident."""
    roots_file = cases_dir() / "roots.yaml"
    listed = yaml.safe_load(roots_file.read_text()) if roots_file.exists() else {}
    if scenario_name in (listed or {}):
        return [str(s) for s in listed[scenario_name]]
    if culprit is None:
        raise ScenarioError(f"{scenario_name}: declares no true root (expectations.culprit)")
    return [culprit]


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim accuracy` on the CLI."""
    acc = sub.add_parser(
        "accuracy", help="run the accuracy suite: shopsim's culprit and a baseline, AC@1/AC@3"
    )
    acc.add_argument("cases", nargs="*", metavar="CASE", help="case names (default: all)")
    acc.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    acc.add_argument(
        "--out",
        type=directory("--out"),
        default=Path("runs/accuracy"),
        metavar="DIR",
        help="where run directories go (default ./runs/accuracy)",
    )
    acc.add_argument("--json", action="store_true", help="print the results as JSON")
    acc.add_argument(
        "--time-scale", type=_scale, default=1.0, metavar="X", help="run X times faster"
    )
    port_base(acc)


def pick(names: list[str], quick: bool) -> dict[str, Path]:
    """The cases to run, in suite order; unknown names raise ValueError."""
    found = all_cases()
    wanted = names or (list(QUICK) if quick else list(found))
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise ValueError(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(found)}")
    return {n: found[n] for n in wanted}


def run_case(
    path: Path, out: Path, scale: float, port_base: int, echo: Callable[[str], None]
) -> list[Incident]:
    """One case as a game day, then its blind verdict and the scoring."""
    scenario = load_scenario(path)
    roots = declared_roots(scenario.name, scenario.expectations.culprit)
    game = GameDay(
        scenario, path, out=out, time_scale=scale, port_base=port_base, echo=lambda _: None
    )
    outcome = game.run()
    if game.load_started_at is None:
        raise RuntimeError(f"{scenario.name} did not start: {outcome.reason}")
    report = build_report(game.run_dir.root)
    write_report(game.run_dir.root, report)
    echo(f"  {scenario.name}: {outcome.status} -> {game.run_dir.root}")
    return incidents_of(load_run(game.run_dir.root), report, roots)


def _mark(hit: bool) -> str:
    return "yes" if hit else "-"


def table(incidents: list[Incident]) -> str:
    """The per-incident table and the overall figures."""
    head = ("case", "truth", "shopsim", "@1", "@3", "BARO top 3", "@1", "@3")
    rows = [
        (
            i.case.removeprefix("acc-"),
            i.truth,
            i.shopsim[0],
            _mark(i.hit("shopsim", 1)),
            _mark(i.hit("shopsim", 3)),
            ", ".join(i.baro[:3]),
            _mark(i.hit("baro", 1)),
            _mark(i.hit("baro", 3)),
        )
        for i in incidents
    ]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(0, "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    s = scores(incidents)
    lines.append("")
    for name, label in (("shopsim", "shopsim"), ("baro", "BARO baseline")):
        lines.append(
            f"{label:<14} AC@1 {s[name]['ac@1']:.2f}  AC@3 {s[name]['ac@3']:.2f}"
            f"  ({len(incidents)} incidents)"
        )
    return "\n".join(lines)


def cmd_accuracy(args: argparse.Namespace) -> int:
    """Run the chosen cases one after another and print the scores."""
    try:
        chosen = pick(args.cases, args.quick)
    except ValueError as err:
        print(f"shopsim accuracy: CASE: {err}", file=sys.stderr)
        return 2
    say = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    started = time.monotonic()
    incidents: list[Incident] = []
    failed: list[str] = []
    for name, path in chosen.items():
        try:
            incidents += run_case(path, args.out, args.time_scale, args.port_base, say)
        except (ScenarioError, RunDirError, RuntimeError, ValueError) as err:
            failed.append(name)
            print(f"shopsim accuracy: {name}: {err}", file=sys.stderr)
    wall = time.monotonic() - started
    if args.json:
        print(json.dumps(_as_json(incidents, failed, wall), indent=2))
    else:
        print()
        print(table(incidents) if incidents else "no case ran")
        print(
            f"wall time {wall:.0f}s" + (f"; could not run: {', '.join(failed)}" if failed else "")
        )
    return 1 if failed else 0


def _as_json(incidents: list[Incident], failed: list[str], wall: float) -> dict[str, object]:
    return {
        "incidents": [
            {
                "case": i.case,
                "truth": i.truth,
                "start_s": round(i.start_s, 1),
                "shopsim": list(i.shopsim[:3]),
                "baro": list(i.baro[:3]),
                "shopsim_hit_at_1": i.hit("shopsim", 1),
                "shopsim_hit_at_3": i.hit("shopsim", 3),
                "baro_hit_at_1": i.hit("baro", 1),
                "baro_hit_at_3": i.hit("baro", 3),
            }
            for i in incidents
        ],
        "scores": scores(incidents) if incidents else None,
        "failed": failed,
        "wall_s": round(wall, 1),
    }
