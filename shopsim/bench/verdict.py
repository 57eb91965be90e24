"""Verdict cost: seconds `shopsim report` takes to rebuild a run's verdict and report.

Timed as a user runs it, a fresh process (imports included), best of `repeats`; the run is the
one `--run-dir` names, or else the bench's own short game day (shortrun.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


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


def cost(run_dir: Path, *, repeats: int = 1) -> dict[str, Any]:
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
