"""`shopsim gameday` end to end, as a user runs it: real store, real Locust, real faults.

A short scenario runs to its end and leaves a complete run directory; Ctrl-C at several points
leaves no process and no active fault; a stop condition ends a run early; a broken scenario is
refused before anything starts."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from shopsim.settings import SERVICE_NAMES, Settings
from tests.conftest import JUDGED, assert_all_gone, descendants, free_port_base, wait_for

pytestmark = [pytest.mark.processes, pytest.mark.load]

SHORT = """\
name: short-check
description: a quick open-model run with a payment slowdown in the middle
seed: 3
duration: 14s
load:
  model: open
  stages:
    - {{duration: 3s, rate: 3}}
    - {{duration: 6s, rate: 8}}
    - {{duration: 3s, rate: 3}}
  mix: {{browser: 50, shopper: 45, gift_buyer: 5}}
faults:
  - {{at: 4s, duration: 4s, type: latency, target: payment, params: {{ms: 200}}}}
resilience:
  initial: {{checkout: {{dependencies: {{payment: {{retries: 1}}}}}}}}
stop_conditions: {stops}
"""


def _write(tmp_path: Path, stops: str = "[]") -> Path:
    path = tmp_path / "short.yaml"
    path.write_text(SHORT.format(stops=stops))
    return path


def _gameday(scenario: Path, port_base: int, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopsim",
            "gameday",
            str(scenario),
            "--out",
            "runs",
            "--port-base",
            str(port_base),
            *extra,
        ],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def test_short_gameday_runs_to_the_end_and_writes_the_run_directory(tmp_path):
    settings = Settings(port_base=free_port_base())
    proc = _gameday(_write(tmp_path), settings.port_base, tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode in JUDGED, out
    assert "completed" in out and "Traceback" not in out
    assert "faults latency->payment" in out  # the live view saw the fault
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    run = runs[0]

    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["scenario"] == "short-check"
    assert manifest["outcome"]["status"] == "completed"
    assert manifest["versions"]["locust"] != "not installed"
    assert "gameday" in manifest["command"]
    assert (run / "scenario.yaml").read_text() == SHORT.format(stops="[]")

    stats = (run / "locust_stats.csv").read_text()
    assert "Aggregated" in stats
    assert (run / "locust.html").stat().st_size > 1000
    assert list(run.glob("locust*.json"))

    # A row a second while the run lasted, and at most one scrape of each source per row: how
    # many depends on the machine's speed, so only their order and coverage are checked.
    series = (run / "series.csv").read_text().splitlines()
    assert series[0].startswith("elapsed_s,phase,")
    elapsed = [float(row.split(",", 1)[0]) for row in series[1:]]
    assert elapsed == sorted(elapsed) and elapsed[-1] >= 14 - 1.5  # it lasted the scenario
    assert any("latency->payment" in row for row in series)
    for source in [*SERVICE_NAMES, "load"]:
        with gzip.open(run / "samples" / f"{source}.prom.gz", "rt") as handle:
            scrapes = handle.read().count("# shopsim-scrape")
        assert 1 <= scrapes <= len(elapsed), source

    events = [json.loads(x) for x in (run / "faults.jsonl").read_text().splitlines()]
    actions = [e["action"] for e in events]
    assert actions == ["resilience", "add", "remove", "reset"]
    assert [e["at_s"] for e in events[:-1]] == [0.0, 4.0, 8.0]  # the scenario's timeline
    assert all(e["late_s"] >= 0.0 for e in events)  # never early (how late: the machine's say)
    assert_all_gone(settings, [])


def test_bad_scenario_is_refused_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHORT.format(stops="[]").replace("type: latency", "type: latensy"))
    proc = _gameday(bad, free_port_base(), tmp_path)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"{bad}:" in out and "faults[0].type" in out and "Traceback" not in out
    assert not (tmp_path / "runs").exists()


def test_stop_condition_ends_the_run_early(tmp_path):
    settings = Settings(port_base=free_port_base())
    stops = "[{metric: checkout_error_ratio, above: 0.5, for: 2s}]"
    scenario = _write(tmp_path, stops)
    text = scenario.read_text().replace(
        "type: latency, target: payment, params: {ms: 200}",
        "type: outage, target: checkout",
    )
    scenario.write_text(text.replace("at: 4s, duration: 4s", "at: 1s, duration: 10s"))
    proc = _gameday(scenario, settings.port_base, tmp_path)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 3, out
    assert "stop condition met: checkout_error_ratio" in out
    manifest = json.loads(next((tmp_path / "runs").iterdir()).joinpath("manifest.json").read_text())
    assert manifest["outcome"]["status"] == "stopped"
    assert_all_gone(settings, [])


def _serving(pid: int) -> bool:
    """True once a service process runs under the game day: its store is starting."""
    return any("shopsim.serve" in " ".join(_cmdline(p)) for p in descendants(pid))


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:  # gone meanwhile
        return []


def _faulted(settings: Settings) -> bool:
    """True while the scenario's payment fault is active: load and a fault are running."""
    try:
        url = f"{settings.operator_url('payment')}/_chaos/faults"
        return bool(httpx.get(url, timeout=10.0).json()["faults"])
    except httpx.HTTPError:  # the store is not up yet
        return False


@pytest.mark.parametrize("moment", ["store starting", "fault active"])
def test_ctrl_c_leaves_no_process_and_no_fault(tmp_path, moment):
    settings = Settings(port_base=free_port_base())
    proc = _gameday(_write(tmp_path), settings.port_base, tmp_path)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("game day: short-check")  # the run has begun
    if moment == "store starting":
        wait_for(lambda: _serving(proc.pid), "a service process to start", timeout_s=120)
    else:
        wait_for(lambda: _faulted(settings), "the payment fault to be active", timeout_s=120)
    pids = descendants(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130, out
    assert "Traceback" not in out
    assert_all_gone(settings, pids + descendants(proc.pid))


def test_sigterm_on_a_running_store_resets_its_faults_and_leaves_it_up(
    tmp_path, live_settings, start_stack
):
    settings = live_settings
    start_stack(settings)
    proc = _gameday(
        _write(tmp_path),
        settings.port_base,
        tmp_path,
        "--target",
        settings.url("storefront"),
    )
    wait_for(lambda: _faulted(settings), "the payment fault to be active", timeout_s=120)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    for name in SERVICE_NAMES:
        assert httpx.get(f"{settings.url(name)}/_chaos/faults").json()["faults"] == []
        assert httpx.get(f"{settings.url(name)}/healthz").status_code == 200
    retries = httpx.get(f"{settings.url('checkout')}/_chaos/resilience").json()
    assert retries["dependencies"]["payment"]["retries"] == 2  # the initial change undone
