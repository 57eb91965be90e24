"""`shopsim up/status/seed` as a user runs them: real processes, real signals, ports freed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shopsim.settings import SERVICE_NAMES, Settings
from tests.conftest import assert_all_gone, descendants, free_port_base

pytestmark = pytest.mark.processes


def _shopsim(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shopsim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_up(proc: subprocess.Popen[str]) -> str:
    """Read `shopsim up`'s output until it says it is up; return what it printed."""
    assert proc.stdout is not None
    seen = ""
    while "Ctrl-C stops all" not in seen:
        line = proc.stdout.readline()  # the test's own timeout bounds this
        assert line, f"shopsim up ended early:\n{seen}"
        seen += line
    return seen


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_up_stops_every_service_on_signal(tmp_path, sig):
    settings = Settings(port_base=free_port_base())
    proc = _shopsim("up", "--port-base", str(settings.port_base), cwd=tmp_path)
    printed = _wait_up(proc)
    pids = descendants(proc.pid)
    assert len(pids) >= 2 * len(SERVICE_NAMES)  # a gunicorn master and a worker per service
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"storefront     http://127.0.0.1:{settings.port_base}" in printed
    assert "stopped every service" in out
    assert_all_gone(settings, pids, timeout_s=15.0)


def test_killed_supervisor_leaves_no_orphans(tmp_path):
    settings = Settings(port_base=free_port_base())
    proc = _shopsim("up", "--port-base", str(settings.port_base), cwd=tmp_path)
    _wait_up(proc)
    pids = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert_all_gone(settings, pids, timeout_s=15.0)


def test_status_reports_health_and_exit_code(tmp_path):
    settings = Settings(port_base=free_port_base())
    down = subprocess.run(
        [sys.executable, "-m", "shopsim", "status", "--port-base", str(settings.port_base)],
        capture_output=True,
        text=True,
    )
    assert down.returncode == 1
    assert "DOWN" in down.stdout
    proc = _shopsim("up", "--port-base", str(settings.port_base), cwd=tmp_path)
    try:
        _wait_up(proc)
        up = subprocess.run(
            [sys.executable, "-m", "shopsim", "status", "--port-base", str(settings.port_base)],
            capture_output=True,
            text=True,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert up.stdout.count(" up ") == len(SERVICE_NAMES)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_up_refuses_a_busy_port(tmp_path):
    settings = Settings(port_base=free_port_base())
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", settings.port("payment")))
        sock.listen()
        proc = _shopsim("up", "--port-base", str(settings.port_base), cwd=tmp_path)
        assert proc.stdout is not None
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"127.0.0.1:{settings.port('payment')} (payment)" in out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--port-base", "80"], "--port-base must be between 1024"),
        (["up", "--port-base", "abc"], "--port-base must be a number"),
        (["up", "--seed", "-1"], "--seed must be between"),
        (["up", "--db", "mysql://x/y"], "--db must be a sqlite:// or postgresql:// URL"),
        (["up", "--threads", "nosuch=4"], "unknown service 'nosuch'"),
        (["up", "--threads", "payment=0"], "SERVICE=N with N between 1 and 256"),
        (["bench", "--duration", "100000"], "--duration must be between"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, message):
    done = subprocess.run(
        [sys.executable, "-m", "shopsim", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / ".shopsim").exists()  # refused before anything was written


def test_seed_is_deterministic(tmp_path):
    for run in ("a", "b"):
        done = subprocess.run(
            [sys.executable, "-m", "shopsim", "seed", "--seed", "7", "--run-dir", run],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert "from seed 7" in done.stdout
    import sqlite3

    def dump(run: str) -> list[tuple]:
        with sqlite3.connect(tmp_path / run / "catalog.db") as conn:
            return conn.execute("SELECT * FROM catalog_products ORDER BY sku").fetchall()

    assert dump("a") == dump("b")
    assert len(dump("a")) > 100
