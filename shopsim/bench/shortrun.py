"""A short open-model game day against the bench store, for the figures that need a run.

`shopsim gameday --target` drives the bench's own store (no second store to start) with a
constant arrival rate and no fault, and leaves a run directory: its `locust.json` holds every
arrival's start lag (arrivals.py), and `shopsim report` on it is the verdict cost (verdict.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from shopsim.settings import Settings

SCENARIO = """\
name: bench-open-model
summary: shopsim bench's open-model run, a constant rate near the store's capacity
description: shopsim bench's open-model run, a constant rate near the store's capacity, no fault
seed: 1
duration: {duration}s
load:
  model: open
  stages:
    - {{duration: {duration}s, rate: {rate}}}
  mix: {{browser: 70, shopper: 25, gift_buyer: 5}}
stop_conditions: []
"""


@dataclass(frozen=True)
class ShortRun:
    run_dir: Path
    rate: float
    duration_s: int
    wall_s: float
    exit_code: int


def run(settings: Settings, out: Path, *, rate: float, duration_s: int) -> ShortRun:
    """Run the scenario against the store at `settings`; the run directory is under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    scenario = out / "bench-open-model.yaml"
    scenario.write_text(SCENARIO.format(duration=duration_s, rate=round(rate, 1)))
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopsim",
            "gameday",
            str(scenario),
            "--out",
            str(out / "runs"),
            "--target",
            settings.url("storefront"),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=duration_s + 120,
    )
    wall = time.perf_counter() - started
    runs = sorted((out / "runs").glob("*/"), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise RuntimeError(f"the bench's game day left no run directory: {done.stdout[-1500:]}")
    return ShortRun(runs[-1], rate, duration_s, wall, done.returncode)
