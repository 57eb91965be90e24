"""A short open-model game day against the bench store, and the two figures read from it.

`shopsim gameday --target` drives the bench's own store (no second store to start) with a
constant arrival rate and no fault, and leaves a run directory:

- open-model timing: the scheduler (loadtests/openmodel.py) reports every arrival's start lag
  to Locust as an ARRIVAL "start lag" sample in milliseconds; the run keeps Locust's JSON report
  (`locust.json`), whose `response_times` is a histogram of those lags (exact to the millisecond
  below 100 ms, coarser above). Dropped arrivals are that row's failures and count as late.
- verdict cost: `shopsim report` on the run (or on the one `--run-dir` names), timed as a user
  runs it, a fresh process with its imports, best of `repeats`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


ON_TIME_MS = 10
ROW = ("ARRIVAL", "start lag")


def start_lags(report: Any) -> dict[int, int] | None:
    """The start-lag histogram {ms: arrivals} of a Locust JSON report, or None without one."""
    for row in report:
        if (row.get("method"), row.get("name")) == ROW:
            return {int(float(k)): int(v) for k, v in row.get("response_times", {}).items()}
    return None


def on_time(path: Path, within_ms: int = ON_TIME_MS) -> dict[str, Any]:
    """The figures of one run's `locust.json`: arrivals, on-time share, worst lag."""
    report = json.loads(path.read_text())
    lags = start_lags(report) or {}
    total = sum(lags.values())
    early = sum(n for ms, n in lags.items() if ms <= within_ms)
    dropped = next(
        (int(r.get("num_failures", 0)) for r in report if (r.get("method"), r.get("name")) == ROW),
        0,
    )
    return {
        "arrivals_on_time_share": early / (total + dropped) if total + dropped else None,
        "arrivals": total,
        "arrivals_dropped": dropped,
        "arrival_lag_max_ms": max(lags) if lags else None,
    }


def run_seconds(run_dir: Path) -> float | None:
    """How long the run lasted by its manifest, when it says."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    started, ended = manifest.get("started_at"), manifest.get("ended_at")
    if isinstance(started, int | float) and isinstance(ended, int | float):
        return float(ended - started)
    return None


def verdict_cost(run_dir: Path, *, repeats: int = 1) -> dict[str, Any]:
    """The fastest of `repeats` `shopsim report` runs on `run_dir`, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "shopsim", "report", str(run_dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        times.append(time.perf_counter() - started)
        # its exit code is the verdict's (a failed SLO is still a report); no report.json is not
        if not (run_dir / "report.json").is_file():
            raise RuntimeError(f"shopsim report wrote no report.json: {done.stderr[-1500:]}")
    return {
        "verdict_cost_s": min(times),
        "verdict_run_dir": str(run_dir),
        "verdict_run_seconds": run_seconds(run_dir),
    }
