"""cpu_burn: burner threads in the target's process eat its CPU and its requests' GIL time."""

from __future__ import annotations

import threading
import time

import pytest

from shopsim.faults.types.cpu_burn import CpuBurn
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds

INJECTIONS = "shopsim_fault_injections_total"


def _burn(store, probability=1.0, duration_s=60.0, **params):
    spec = {"type": "cpu_burn", "target": "catalog", "duration_s": duration_s}
    return add_fault(store, spec | {"probability": probability, "params": params})


def _kind(store) -> CpuBurn:
    (fault,) = store.ctx("catalog").faults.active()
    return fault.kind


def _burners() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fault-cpu_burn-")]


def _remove(store, name):
    response = store.client("catalog").delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def _cpu_over(seconds: float) -> float:
    """CPU time this process spends while the test thread sleeps for `seconds`."""
    started = time.process_time()
    time.sleep(seconds)
    return time.process_time() - started


def _serve(store, n: int = 20) -> float:
    """Seconds `n` searches take in all: a burner takes GIL slices from some of them."""
    client = store.client("catalog")
    started = time.perf_counter()
    for _ in range(n):
        assert client.get("/products?q=doorbuster").status_code == 200
    return time.perf_counter() - started


def test_cpu_burn_probability_zero_never_burns(chaos, monkeypatch):
    monkeypatch.setattr(CpuBurn, "round_s", 0.01)
    _burn(chaos, probability=0.0, percent=100, threads=2)
    cpu = _cpu_over(0.5)
    assert _kind(chaos).rounds >= 40
    assert cpu < 0.15
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cpu_burn"}) == 0


def test_cpu_burn_probability_one_burns_every_round(chaos):
    fault = _burn(chaos, percent=100, threads=1)
    kind = _kind(chaos)
    cpu = _cpu_over(1.0)
    _remove(chaos, fault["name"])
    assert cpu > 0.25  # one burner at 100 % of a 1 s window, with room for a busy machine
    assert kind.rounds >= 8
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cpu_burn"}) == kind.rounds


def test_cpu_burn_probability_three_tenths_is_binomial(chaos, monkeypatch):
    monkeypatch.setattr(CpuBurn, "round_s", 0.002)
    fault = _burn(chaos, probability=0.3, percent=1, threads=4)
    kind = _kind(chaos)
    deadline = time.monotonic() + 5
    while kind.rounds < 400 and time.monotonic() < deadline:
        time.sleep(0.05)
    _remove(chaos, fault["name"])
    low, high = binomial_bounds(kind.rounds, 0.3)
    assert kind.rounds >= 400
    assert low <= chaos.metric("catalog", INJECTIONS, {"fault": "cpu_burn"}) <= high


def test_cpu_burn_slows_the_targets_requests(chaos):
    duration = {"service": "catalog", "route": "/products", "method": "GET"}
    _serve(chaos, 5)  # warm up
    before = _serve(chaos)
    _burn(chaos, percent=100, threads=4)
    served_before = chaos.metric("catalog", "shopsim_http_request_duration_seconds_sum", duration)
    during = _serve(chaos)
    served = (
        chaos.metric("catalog", "shopsim_http_request_duration_seconds_sum", duration)
        - served_before
    )
    assert during > 2 * before
    assert served > 1.5 * before  # the server's own histogram saw it too


def test_cpu_burn_removal_stops_the_threads_and_the_cpu(chaos):
    fault = _burn(chaos, percent=100, threads=3)
    assert len(_burners()) == 3
    assert chaos.metric(
        "catalog", "shopsim_fault_active", {"fault": "cpu_burn", "target": "catalog"}
    )
    started = time.perf_counter()
    _remove(chaos, fault["name"])
    assert time.perf_counter() - started < 1.0  # stop() is prompt
    assert _burners() == []
    assert _cpu_over(0.3) < 0.1
    labels = {"fault": "cpu_burn", "target": "catalog"}
    assert chaos.metric("catalog", "shopsim_fault_active", labels) == 0


def test_cpu_burn_expiry_ends_the_burn(chaos):
    _burn(chaos, duration_s=1.0, percent=100, threads=2)
    assert len(_burners()) == 2
    time.sleep(1.3)
    assert _burners() == []  # the burners watch the deadline themselves
    chaos.ctx("catalog").faults.purge()  # what the service's expiry worker does
    assert chaos.ctx("catalog").faults.active() == []
    assert _cpu_over(0.3) < 0.1


@pytest.mark.parametrize(
    ("params", "field"), [({"percent": 0}, "params.percent"), ({"threads": 5}, "params.threads")]
)
def test_cpu_burn_bad_params_are_refused(chaos, params, field):
    spec = {"type": "cpu_burn", "target": "catalog", "duration_s": 5, "params": params}
    response = chaos.client("catalog").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert _burners() == []
