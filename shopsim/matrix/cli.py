"""`shopsim matrix`: the resiliency matrix, printed, and written as JSON and HTML."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsim.argtypes import directory
from shopsim.matrix.cells import DEPENDENCIES, KINDS
from shopsim.matrix.render import evidence, page, table, to_json
from shopsim.matrix.run import FULL, QUICK, run_matrix
from shopsim.runner import StackError
from shopsim.settings import Settings


def _dependency(text: str) -> str:
    if text not in DEPENDENCIES:
        raise argparse.ArgumentTypeError(f"--only: one of {', '.join(DEPENDENCIES)}, not {text!r}")
    return text


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim matrix` on the CLI."""
    p = sub.add_parser(
        "matrix", help="which journeys survive each dependency's outage and crash (own store)"
    )
    port_base(p)
    p.add_argument("--quick", action="store_true", help="5 s per cell: a few minutes in all")
    p.add_argument(
        "--out",
        type=directory("--out"),
        default=Path("runs"),
        metavar="DIR",
        help="where the matrix directory goes (default ./runs)",
    )
    p.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    p.add_argument(
        "--only",
        type=_dependency,
        action="append",
        default=[],
        metavar="DEP",
        help="only this dependency (repeatable)",
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_matrix(args: argparse.Namespace) -> int:
    """Start a store of its own, run every cell, write matrix.json and matrix.html."""
    out = args.out / time.strftime("matrix-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_environment(port_base=args.port_base, run_dir=str(out / "store"))
    timing = QUICK if args.quick else FULL
    echo = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else print
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        found = run_matrix(settings, args.only or DEPENDENCIES, KINDS, timing, echo=echo)
    except (StackError, RuntimeError) as exc:
        print(f"shopsim matrix: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    meta = {
        "summary": f"{len(found.cells)} cells, {timing.window_s:g} s down each, "
        f"{found.seconds:.0f} s in all",
        "window_s": timing.window_s,
        "seconds": round(found.seconds, 1),
        "baseline_s": {j: round(s, 3) for j, s in found.baseline_s.items()},
    }
    data = to_json(found.cells, meta)
    (out / "matrix.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / "matrix.html").write_text(page(found.cells, meta))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print("\n" + table(found.cells))
        if notes := evidence(found.cells):
            print("\nevidence:\n" + notes)
        print(f"\n{meta['summary']}; written to {out}/matrix.json and matrix.html")
    return 0
