"""One open-model schedule from one Locust process and from several: the same arrivals.

Real Locust processes against a real store. Each run's arrivals are counted twice: in Locust's
own stats (the master adds up its workers) and in the load metrics, summed over the master's
and every worker's port. Two processes must deliver exactly what one does, run after run, and
also when every worker's init comes after its first users (the start-up order in which a share
handed out at test start used to go missing). A game day with two load processes then adds up
every process in its samples and its per-second series.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from shopsim.gameday.sampler import free_ports
from tests.conftest import JUDGED

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
LATE_INIT = ROOT / "tests" / "locust_late_init.py"

pytestmark = [pytest.mark.processes, pytest.mark.load]

RATE, SECONDS = 20, 3
EXPECTED = RATE * SECONDS  # arrivals due at n / RATE for n < RATE * SECONDS
PLAN = {
    "model": "open",
    "stages": [{"duration_s": SECONDS, "target": RATE}],
    "mix": {"browser": 1},
    "seed": 5,
}


def _arrivals(text: str) -> float:
    found = re.search(r"^shopsim_load_arrivals_total (\S+)$", text, re.M)
    assert found, "no shopsim_load_arrivals_total"
    return float(found.group(1))


class Run:
    """One headless Locust run with `processes` workers (1: standalone), scraped as it goes."""

    def __init__(self, tmp: Path, host: str, processes: int, locustfile: Path) -> None:
        self.port = free_ports(processes + 1)
        self.ports = [self.port] + ([self.port + 1 + k for k in range(processes)] * (processes > 1))
        self.prefix = tmp / f"locust-{processes}-{locustfile.stem}-{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSIM_")}
        env["SHOPSIM_LOAD_PLAN"] = json.dumps({**PLAN, "metrics_port": self.port})
        args = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"]
        args += ["--host", host, "--csv", str(self.prefix), "--only-summary"]
        args += ["--stop-timeout", "5", "--run-time", "60"]
        args += ["--processes", str(processes)] if processes > 1 else []
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.last: dict[int, str] = {}
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            while self.proc.poll() is None:
                for port in self.ports:
                    with contextlib.suppress(httpx.HTTPError):
                        self.last[port] = client.get(f"http://127.0.0.1:{port}/metrics").text
                time.sleep(0.2)

    def finish(self) -> str:
        """Wait for Locust to end by itself; its output."""
        try:
            out, _ = self.proc.communicate(timeout=90)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
        self._poller.join()
        assert self.proc.returncode == 0, out
        return out

    def stats_arrivals(self) -> int:
        """Arrivals in Locust's stats (the master's sum of its workers')."""
        with open(f"{self.prefix}_stats.csv", newline="") as f:
            rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(f)}
        return int(rows[("ARRIVAL", "start lag")]["Request Count"])

    def metric_arrivals(self) -> list[float]:
        """shopsim_load_arrivals_total as each process last served it: master first."""
        missing = [p for p in self.ports if p not in self.last]
        assert not missing, f"never scraped: ports {missing}"
        return [_arrivals(self.last[p]) for p in self.ports]


def test_two_processes_deliver_the_arrivals_of_one(live_settings, start_stack, tmp_path):
    start_stack(live_settings)
    host = live_settings.url("storefront")
    runs = [(1, LOCUSTFILE), (2, LOCUSTFILE), (2, LATE_INIT), (2, LOCUSTFILE)]
    delivered = []
    for processes, locustfile in runs:
        run = Run(tmp_path, host, processes, locustfile)
        out = run.finish()
        assert "no share of the load" not in out, out
        per_process = run.metric_arrivals()
        if processes > 1:
            assert per_process[0] == 0  # the master makes no arrivals itself
            # Arrivals k, k + N, ...: every worker made its half, none made them all.
            assert per_process[1:] == [EXPECTED / processes] * processes, per_process
        assert sum(per_process) == run.stats_arrivals()
        delivered.append(run.stats_arrivals())
    assert delivered == [EXPECTED] * len(runs), list(zip(runs, delivered, strict=True))


GAMEDAY = """\
name: two-processes
description: open-model arrivals from two load processes
seed: 4
duration: {seconds}s
load:
  model: open
  stages:
    - {{duration: {seconds}s, rate: {rate}}}
  mix: {{browser: 1}}
"""


def test_gameday_adds_up_every_load_process(live_settings, start_stack, tmp_path):
    start_stack(live_settings)
    scenario = tmp_path / "two.yaml"
    scenario.write_text(GAMEDAY.format(seconds=SECONDS + 2, rate=RATE))
    expected = RATE * (SECONDS + 2)
    command = [sys.executable, "-m", "shopsim", "gameday", str(scenario), "--out", "runs"]
    command += ["--target", live_settings.url("storefront")]
    command += ["--port-base", str(live_settings.port_base), "--load-processes", "2"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode in JUDGED, done.stdout + done.stderr
    run = next((tmp_path / "runs").iterdir())

    totals = {}
    for source in ("load", "load-1", "load-2"):
        with gzip.open(run / "samples" / f"{source}.prom.gz", "rt") as handle:
            counts = re.findall(r"^shopsim_load_arrivals_total (\S+)$", handle.read(), re.M)
        totals[source] = max(float(c) for c in counts)
    assert totals == {"load": 0, "load-1": expected / 2, "load-2": expected / 2}

    # The per-second series adds up the workers, from the first second on. Rates and times
    # are rounded in the file (a few arrivals); a worker that misses a scrape (the live line
    # says so) loses its increase over the next two seconds, RATE at most, by design.
    with open(run / "series.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    seen, previous = 0.0, 0.0
    for row in rows:
        elapsed = float(row["elapsed_s"])
        if row["arrivals_per_s"]:
            seen += float(row["arrivals_per_s"]) * (elapsed - previous)
        previous = elapsed
    missed = sum(line.count("load-") for line in done.stdout.splitlines() if "! " in line)
    assert expected - 5 - missed * RATE <= seen <= expected + 5, (seen, expected, done.stdout)
    assert max(float(r["arrivals_per_s"] or 0) for r in rows) >= RATE * 0.8
    # The workers and the master exit one by one after the schedule: not a failure.
    ending = [line for line in done.stdout.splitlines() if " ending " in line]
    assert ending and not [line for line in ending if "no metrics from load" in line], ending
