"""`shopsim bench [--quick] [--json]`: start what it needs, interleave variants, report ratios.

One store on free loopback ports, plus a bare endpoint (bare.py) and a catalog with the hooks
off (hooks.py). In order: idle CPU; checkout efficiency (wrk on the bare endpoint and closed-loop
checkouts, round by round); hook overhead (hooked and unhooked catalog, round by round); the
load generator (wrk and Locust on the bare endpoint, round by round); fault precision on
payment; a short open-model game day near the measured capacity for arrival timing; and
`shopsim report` on that run (or on `--run-dir`) for the verdict cost.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from shopsim.bench import bare, closedloop, faultprecision, hooks, loadgen, shortrun
from shopsim.gameday.sampler import free_ports
from shopsim.runner import Stack
from shopsim.seed import apply, generate
from shopsim.settings import OPERATOR_PORT_OFFSET, SERVICE_NAMES, Settings

#: HTTP requests one checkout makes across the services (issue 12's count on main).
HOPS_PER_CHECKOUT = 14


@dataclass(frozen=True)
class Plan:
    """How long each part runs: --quick or the full bench."""

    rounds: int
    seconds: float
    idle_s: float
    hook_seconds: float
    loadgen_rounds: int
    fault_samples: int
    error_requests: int
    run_s: int


QUICK = Plan(2, 3.0, 2.0, 2.0, 1, 3, 100, 4)
FULL = Plan(4, 8.0, 10.0, 5.0, 3, 10, 400, 30)


def _skus(settings: Settings) -> list[str]:
    listing = httpx.get(f"{settings.url('storefront')}/api/products", params={"limit": 100})
    return [p["sku"] for p in listing.json()["products"] if not p["doorbuster"]]


def run(*, quick: bool, run_dir: Path | None = None) -> dict[str, Any]:
    """Every measured figure, as a flat dict (fault precision nested)."""
    plan = QUICK if quick else FULL
    concurrency = 16
    # the services and their side ports; then an unhooked catalog's (its storefront slot
    # unused) and the bare endpoint
    n = len(SERVICE_NAMES)
    base = free_ports(n + 3, offsets=(0, OPERATOR_PORT_OFFSET))
    unhooked_port, bare_port = base + n + 1, base + n + 2
    figures: dict[str, Any] = {"rounds": plan.rounds, "round_seconds": plan.seconds}
    with tempfile.TemporaryDirectory(prefix="shopsim-bench-") as tmp:
        settings = Settings(
            port_base=base,
            run_dir=str(Path(tmp) / "run"),
            payment_latency_ms=0.0,
            payment_jitter_ms=0.0,
        )
        apply(settings, generate(1))
        with (
            Stack(settings) as stack,
            hooks.unhooked(settings, unhooked_port) as unhooked,
            bare.BareServer(bare_port) as server,
        ):
            assert server.proc is not None
            pids = [p.pid for p in stack.procs.values()]
            me = psutil.Process(os.getpid())
            skus = _skus(settings)
            idle_before, me_before = bare.process_cpu(pids), me.cpu_times()
            time.sleep(plan.idle_s)
            me_after = me.cpu_times()
            figures["idle_cpu_cores"] = (bare.process_cpu(pids) - idle_before) / plan.idle_s
            figures["idle_orchestrator_cpu_cores"] = (
                me_after.user + me_after.system - me_before.user - me_before.system
            ) / plan.idle_s
            figures |= _efficiency(settings, server, pids, skus, plan, concurrency)
            figures |= hooks.run(
                stack, unhooked, skus[0], rounds=plan.rounds, seconds=plan.hook_seconds
            ).figures()
            figures |= loadgen.run(
                server.url,
                server.proc.pid,
                rounds=plan.loadgen_rounds,
                seconds=plan.hook_seconds,
                users=concurrency,
            )
            figures["fault_precision"] = faultprecision.run(
                settings, samples=plan.fault_samples, error_requests=plan.error_requests
            )
            # near capacity: as many arrivals/s as confirmed checkouts/s at full load
            rate = max(1.0, figures["checkouts_per_s_zero_latency"] or 1.0)
            short = shortrun.run(settings, Path(tmp) / "short", rate=rate, duration_s=plan.run_s)
            figures["open_model_rate_per_s"] = short.rate
            figures["open_model_run_exit_code"] = short.exit_code
            figures |= shortrun.on_time(short.run_dir / "locust.json")
            figures |= shortrun.verdict_cost(run_dir or short.run_dir)
    return figures


def _efficiency(
    settings: Settings,
    server: bare.BareServer,
    pids: list[int],
    skus: list[str],
    plan: Plan,
    concurrency: int,
) -> dict[str, Any]:
    """Bare-endpoint CPU per request (wrk) and CPU per confirmed checkout, round by round."""
    assert server.proc is not None
    bare_cpu_ms: list[float] = []
    bare_rps: list[float] = []
    checkout_cpu_ms: list[float] = []
    checkout_rate: list[float] = []
    failures = 0
    for _ in range(plan.rounds):  # interleaved: bare, store, bare, store ...
        w = bare.run_wrk(
            server.url, seconds=plan.seconds, connections=16, server_pids=[server.proc.pid]
        )
        bare_cpu_ms.append(w.cpu_per_request_ms)
        bare_rps.append(w.requests_per_s)
        cpu0 = bare.process_cpu(pids)
        r = closedloop.run(
            settings.url("storefront"),
            duration_s=plan.seconds,
            concurrency=concurrency,
            skus=skus,
        )
        cpu = bare.process_cpu(pids) - cpu0
        failures += sum(r.failures.values())
        checkout_rate.append(r.rate)
        if r.latencies:
            checkout_cpu_ms.append(1000.0 * cpu / len(r.latencies))
    bare_ms = bare.mean(bare_cpu_ms) or 0.0
    per_checkout = bare.mean(checkout_cpu_ms)
    return {
        "checkout_efficiency_ratio": (
            bare_ms * HOPS_PER_CHECKOUT / per_checkout if per_checkout else None
        ),
        "checkout_cpu_ms": per_checkout,
        "bare_cpu_per_request_ms": bare_ms,
        "hops_per_checkout": HOPS_PER_CHECKOUT,
        "bare_requests_per_s": bare.mean(bare_rps),
        "checkouts_per_s_zero_latency": bare.mean(checkout_rate),
        "checkout_failures": failures,
    }
