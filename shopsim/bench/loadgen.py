"""Load generator: requests/s shopsim's Locust users reach on one process, over wrk's, against
the same fixed endpoint (the bare endpoint of bare.py), in alternating rounds.

Locust runs headless in one process (no workers) with as many users as wrk has connections;
its JSON summary gives the requests and the time between the first and the last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shopsim.bench import bare

# pinguser.py is only named, never imported: importing Locust monkey-patches this process
LOCUSTFILE = Path(__file__).with_name("pinguser.py")
PATH_ENV = "SHOPSIM_BENCH_PATH"  # the fixed path PingUser requests


def locust_rate(url: str, *, seconds: float, users: int) -> float:
    """Requests/s of `users` PingUsers in one Locust process for `seconds`."""
    parts = urlsplit(url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            f"{parts.scheme}://{parts.netloc}",
            "--users",
            str(users),
            "--spawn-rate",
            str(users * 10),
            "--run-time",
            f"{max(1, round(seconds))}s",
            "--stop-timeout",
            "2",
            "--json",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=os.environ | {PATH_ENV: parts.path or "/"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    rows = json.loads(done.stdout[done.stdout.index("[") :])
    row = next(r for r in rows if r["name"] == "fixed")
    span = float(row["last_request_timestamp"]) - float(row["start_time"])
    if row["num_failures"] or span <= 0:
        raise RuntimeError(f"locust: {row['num_failures']} failures, span {span}: {done.stderr}")
    return float(row["num_requests"]) / span


def run(
    url: str, server_pid: int, *, rounds: int, seconds: float, users: int = 16
) -> dict[str, Any]:
    """Alternate wrk and Locust on `url` for `rounds` rounds; the ratio of mean rates."""
    locust_rps: list[float] = []
    wrk_rps: list[float] = []
    for _ in range(rounds):
        w = bare.run_wrk(url, seconds=seconds, connections=users, server_pids=[server_pid])
        wrk_rps.append(w.requests_per_s)
        locust_rps.append(locust_rate(url, seconds=seconds, users=users))
    lr, wr = bare.mean(locust_rps), bare.mean(wrk_rps)
    return {
        "loadgen_vs_wrk_ratio": lr / wr if lr is not None and wr else None,
        "locust_requests_per_s": lr,
        "wrk_requests_per_s": wr,
    }
