"""Run the whole matrix on one store started (and seeded) once, stopped on every exit path."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from shopsim.matrix.cells import Cell, Timing, baseline, run_cell
from shopsim.matrix.journeys import Shopper
from shopsim.runner import Stack
from shopsim.seed import apply, generate
from shopsim.settings import Settings

QUICK = Timing(window_s=5.0, mail_wait_s=20.0)
FULL = Timing(window_s=20.0, mail_wait_s=60.0)


@dataclass
class Matrix:
    cells: list[Cell]
    baseline_s: dict[str, float]
    seconds: float


def run_matrix(
    settings: Settings,
    dependencies: Iterable[str],
    kinds: Iterable[str],
    timing: Timing,
    echo: Callable[[str], None] = print,
) -> Matrix:
    """Seed and start the store, measure a baseline, then every (dependency, kind) cell."""
    started = time.monotonic()
    apply(settings, generate(settings.seed), fresh=True)
    cells: list[Cell] = []
    with Stack(settings) as stack:
        shopper = Shopper(settings)
        try:
            base = baseline(shopper)
            echo("baseline: " + ", ".join(f"{j} {s:.2f}s" for j, s in base.items()))
            for dependency in dependencies:
                for kind in kinds:
                    cell = run_cell(stack, shopper, dependency, kind, timing, base)
                    states = " ".join(f"{j}={v.state}" for j, v in cell.verdicts.items())
                    echo(f"{dependency:<14} {kind:<7} {states} ({cell.seconds:.0f}s)")
                    cells.append(cell)
                    dead = stack.dead()
                    if dead:
                        raise RuntimeError(f"service process died: {', '.join(dead)}")
        finally:
            shopper.close()
    return Matrix(cells, base, time.monotonic() - started)
