"""The Locust project (loadtests/) against a real store: journeys, the open model, its metrics.

Locust runs as a subprocess, never imported here (it monkey-patches the standard library with
gevent). Only the pure modules, loadtests.plan and loadtests.schedule, are imported directly.
The key test shows coordinated omission: with the storefront slowed down, the open model keeps
its arrivals on schedule and its latency from the intended start grows, while the closed model
quietly sends far fewer requests.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopsim.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # loadtests/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(ROOT))

from loadtests.plan import PlanError, check_loopback, parse_plan, read_plan  # noqa: E402
from loadtests.schedule import Stage, arrival_times, expected_arrivals, target_at  # noqa: E402

pytestmark = [pytest.mark.processes, pytest.mark.load]

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
HTTP_METHODS = {"GET", "POST"}


# --- the pure parts: schedule arithmetic and plan validation ------------------------------------


def test_schedule_constant_rate_arrives_every_one_over_r():
    times = [t for _, t in arrival_times([Stage(5, 10)])]
    assert len(times) == 50
    assert times[:3] == pytest.approx([0.0, 0.1, 0.2])
    assert max(times) < 5


def test_schedule_ramp_integrates_the_rate():
    stages = [Stage(10, 2), Stage(10, 12, ramp=True)]  # 20 arrivals, then 2 -> 12 over 10 s: 70
    times = dict(arrival_times(stages))
    assert len(times) == round(expected_arrivals(stages)) == 90
    assert target_at(stages, 15) == pytest.approx(7)
    # Arrival n is due when the integral of the rate reaches n, so the gaps shrink up the ramp.
    for n, t in times.items():
        assert expected_arrivals(stages, t) == pytest.approx(n, abs=1e-6)
    gaps = [times[n + 1] - times[n] for n in range(20, 89)]
    assert gaps[0] < 0.5 and gaps[-1] == pytest.approx(1 / 12, rel=0.05)
    assert all(a >= b for a, b in zip(gaps, gaps[1:], strict=False))


def test_schedule_shares_interleave_into_one_schedule():
    stages = [Stage(3, 7), Stage(2, 1, ramp=True)]
    whole = list(arrival_times(stages))
    parts = sorted(a for k in range(3) for a in arrival_times(stages, first=k, step=3))
    assert parts == whole


def test_plan_is_validated_with_the_field_named():
    plan = parse_plan(json.dumps({"model": "open", "stages": [{"duration_s": 3, "target": 2.5}]}))
    assert plan.duration_s == 3 and plan.mix["browser"] == 70 and plan.max_in_flight == 2000
    bad = {
        '{"model": "open"}': "stages is required",
        '{"model": "x", "stages": []}': "model must be",
        '{"model": "open", "stages": [{"duration_s": 0, "target": 1}]}': "stages[0].duration_s",
        '{"model": "closed", "stages": [{"duration_s": 1, "target": 1.5}]}': "whole number",
        '{"model": "open", "stages": [{"duration_s": 1, "target": 1}], "mix": {"cat": 1}}': "'cat'",
        '{"model": "open", "stages": [{"duration_s": 1, "target": 1}], "seeds": 1}': "'seeds'",
        '{"model": "open", "stages": [{"duration_s": 1, "target": true}]}': "target must be",
        "[1]": "must be an object",
        "{": "not valid JSON",
    }
    for text, expected in bad.items():
        with pytest.raises(PlanError, match=re.escape(expected)):
            parse_plan(text)
    assert read_plan({}).stages == () and read_plan({}).model == "closed"


def test_loopback_check_refuses_other_hosts():
    for ok in (
        "http://127.0.0.1:8100",
        "http://127.9.9.9",
        "http://[::1]:8100",
        "http://localhost",
    ):
        assert check_loopback(ok) == ok
    for bad in ("http://10.0.0.1", "http://example.com", "ftp://127.0.0.1", "", "127.0.0.1:80"):
        with pytest.raises(PlanError):
            check_loopback(bad)


def test_pure_modules_do_not_import_locust():
    code = "import sys, loadtests.plan, loadtests.schedule; sys.exit('locust' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


# --- Locust as a subprocess ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocustRun:
    """One headless Locust process; its metrics are scraped while it runs."""

    def __init__(self, tmp: Path, host: str, plan: dict[str, Any], *extra: str) -> None:
        self.port = _free_port()
        self.prefix = tmp / f"locust-{plan['model']}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSIM_")}
        env["SHOPSIM_LOAD_PLAN"] = json.dumps({**plan, "metrics_port": self.port})
        args = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
        args += ["--host", host, "--csv", str(self.prefix), "--only-summary", *extra]
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.scrapes: list[str] = []
        self._poller = threading.Thread(target=self._poll, daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            while self.proc.poll() is None:
                with contextlib.suppress(httpx.HTTPError):
                    self.scrapes.append(client.get(f"http://127.0.0.1:{self.port}/metrics").text)
                time.sleep(0.2)

    def wait(self, timeout_s: float) -> str:
        """Wait for Locust to exit by itself; its output."""
        out, _ = self.proc.communicate(timeout=timeout_s)
        self._poller.join()
        assert self.proc.returncode == 0, out
        return out

    def stats(self) -> dict[tuple[str, str], dict[str, str]]:
        """Locust's CSV stats by (type, name)."""
        with open(f"{self.prefix}_stats.csv", newline="") as f:
            return {(row["Type"], row["Name"]): row for row in csv.DictReader(f)}

    def metric(self, name: str, labels: str = "") -> float:
        """A sample from the last scrape of the load process's metrics."""
        pattern = re.compile(rf"^{re.escape(name + labels)} (\S+)$", re.M)
        found = pattern.search(self.scrapes[-1])
        assert found, f"{name}{labels} not in the last scrape"
        return float(found.group(1))


def _http_requests(stats: dict[tuple[str, str], dict[str, str]]) -> tuple[int, int]:
    rows = [row for (kind, _), row in stats.items() if kind in HTTP_METHODS]
    return sum(int(r["Request Count"]) for r in rows), sum(int(r["Failure Count"]) for r in rows)


def _confirmed_orders(settings: Settings) -> float:
    text = httpx.get(f"{settings.url('checkout')}/metrics", timeout=5.0).text
    found = re.search(r'^shopsim_checkout_orders_total\{outcome="confirmed"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def _sell_out_doorbusters(settings: Settings) -> None:
    """One customer buys every doorbuster unit, so the load's doorbuster shoppers find none."""
    with httpx.Client(base_url=settings.url("storefront"), timeout=30.0) as api:
        for i in range(1, 6):
            item = {"sku": f"DB-{i:04d}", "quantity": 5}
            assert api.post("/api/customers/200/cart/items", json=item).status_code == 200
        body = {"idempotency_key": "sell-out", "card_token": "tok_visa"}
        assert api.post("/api/customers/200/checkout", json=body).status_code == 201


def test_locust_refuses_a_host_outside_loopback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSIM_")}
    args = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-t", "3"]
    done = subprocess.run(
        [*args, "--host", "http://192.0.2.10:8100"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "refusing to load --host 'http://192.0.2.10:8100'" in done.stderr


def test_open_model_run_buys_through_the_pages(live_settings, start_stack, tmp_path):
    start_stack(live_settings)
    _sell_out_doorbusters(live_settings)
    orders_before = _confirmed_orders(live_settings)
    plan = {
        "model": "open",
        "stages": [{"duration_s": 5, "target": 10}],
        "mix": {"browser": 50, "shopper": 40, "gift_buyer": 10},
        "seed": 7,
    }
    run = LocustRun(tmp_path, live_settings.url("storefront"), plan, "--stop-timeout", "10")
    run.wait(timeout_s=45)

    stats = run.stats()
    for name in ("/", "/search?q=[q]", "/products/[sku]", "/cart", "/checkout", "/orders/[id]"):
        assert int(stats[("GET", name)]["Request Count"]) > 0, name
    for name in ("/login", "/cart/items", "/checkout", "/registries/[id]/gift"):
        assert int(stats[("POST", name)]["Request Count"]) > 0, name
    sent, failed = _http_requests(stats)
    assert sent > 150 and failed <= 0.02 * sent, (sent, failed)
    assert int(stats[("ARRIVAL", "start lag")]["Request Count"]) == 50
    assert int(stats[("POST", "/checkout")]["Failure Count"]) == 0  # sold out is not a failure

    assert run.metric("shopsim_load_arrivals_total") == 50
    assert run.metric("shopsim_load_arrivals_dropped_total") == 0
    assert run.metric("shopsim_load_journeys_total", '{journey="shopper",result="sold_out"}') > 0
    assert run.metric("shopsim_load_checkouts_total", '{result="ok"}') > 0
    home = '{flow="browse",method="GET",name="/",result="ok"}'
    assert run.metric("shopsim_load_requests_total", home) > 0
    order = '{flow="checkout",method="POST",name="/checkout",result="ok"}'
    assert run.metric("shopsim_load_requests_total", order) > 0
    assert _confirmed_orders(live_settings) > orders_before

    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("SHOPSIM_REQUIRE_PROMTOOL"):
            pytest.fail("promtool is required (Debian package prometheus)")
        pytest.skip("promtool not installed (Debian package prometheus)")
    lint = subprocess.run(
        [promtool, "check", "metrics"], input=run.scrapes[-1], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_open_model_keeps_its_schedule_when_the_store_slows_down(
    live_settings, start_stack, tmp_path
):
    start_stack(live_settings)
    fault = [sys.executable, "-m", "shopsim", "fault", "add", "latency", "--target", "storefront"]
    fault += ["--param", "ms=500", "--duration", "60s", "--port-base", str(live_settings.port_base)]
    subprocess.run(fault, cwd=ROOT, check=True, capture_output=True, timeout=30)
    rate, seconds = 3, 6
    host = live_settings.url("storefront")
    stage = {"duration_s": seconds, "target": rate}

    opened = LocustRun(tmp_path, host, {"model": "open", "stages": [stage], "seed": 3})
    opened.wait(timeout_s=45)
    closed = LocustRun(tmp_path, host, {"model": "closed", "stages": [stage], "seed": 3})
    closed.wait(timeout_s=45)

    open_stats = opened.stats()
    arrivals = int(open_stats[("ARRIVAL", "start lag")]["Request Count"])
    assert abs(arrivals - rate * seconds) <= 1, arrivals
    assert opened.metric("shopsim_load_arrivals_total") == arrivals
    first = open_stats[("ARRIVAL", "first response from intended start")]
    assert float(first["Median Response Time"]) >= 450  # the 500 ms fault, seen from the schedule
    open_sent, _ = _http_requests(open_stats)
    closed_sent, _ = _http_requests(closed.stats())
    # Same slowdown, same nominal load: the closed users waited, and sent far less.
    assert closed_sent < 0.6 * open_sent, (closed_sent, open_sent)
    closed_journeys = sum(
        int(row["Request Count"]) for (kind, _), row in closed.stats().items() if kind == "JOURNEY"
    )
    assert closed_journeys < 0.6 * arrivals, (closed_journeys, arrivals)
    assert math.isfinite(opened.metric("shopsim_load_cpu_percent"))
