"""`shopsim bench --quick --json` starts its own store and bare endpoint and emits every field,
each a measurement (no field left null)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

FIELDS = {
    "hook_overhead_ratio",
    "checkout_efficiency_ratio",
    "loadgen_vs_wrk_ratio",
    "arrivals_on_time_share",
    "checkout_cpu_ms",
    "bare_cpu_per_request_ms",
    "bare_requests_per_s",
    "checkouts_per_s_zero_latency",
    "checkout_failures",
    "idle_cpu_cores",
    "fault_precision",
    "verdict_cost_s",
    "hooks_on_requests_per_s",
    "hooks_off_requests_per_s",
    "locust_requests_per_s",
    "wrk_requests_per_s",
    "arrivals",
    "idle_orchestrator_cpu_cores",
}
PRECISION = {"latency", "error_ratio", "worst_latency_error_ms", "worst_onset_ms"}


@pytest.mark.processes
@pytest.mark.load
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed")
def test_bench_quick_json_emits_every_field() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "shopsim", "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads(out.stdout)
    assert figures.keys() >= FIELDS
    assert figures["checkout_failures"] == 0
    assert figures["checkout_cpu_ms"] > 0 and figures["bare_cpu_per_request_ms"] > 0
    assert figures["checkout_efficiency_ratio"] > 0
    for name in ("hook_overhead_ratio", "loadgen_vs_wrk_ratio", "arrivals_on_time_share"):
        assert figures[name] > 0, name
    assert figures["arrivals"] > 0 and figures["verdict_cost_s"] > 0
    precision = figures["fault_precision"]
    assert precision.keys() >= PRECISION
    assert set(precision["latency"]) == {"50ms", "200ms", "800ms"}
    for configured, seen in precision["latency"].items():  # a delay, not a wall-time bound
        assert seen["observed_extra_ms_mean"] > 0, configured
