"""memory_leak: the target's process holds more memory every second, up to a cap."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from shopsim.faults.types.memory_leak import MIB, MemoryLeak
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire, wait_for

INJECTIONS = "shopsim_fault_injections_total"
HELD = "shopsim_fault_memory_held_bytes"


def _leak(store, probability=1.0, duration_s=60.0, **params):
    spec = {"type": "memory_leak", "target": "cart", "duration_s": duration_s}
    return add_fault(store, spec | {"probability": probability, "params": params})


def _kind(store) -> MemoryLeak:
    (fault,) = store.ctx("cart").faults.active()
    return fault.kind


def _leakers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fault-memory_leak-")]


def _remove(store, name):
    response = store.client("cart").delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def _fired(store) -> float:
    return store.metric("cart", INJECTIONS, {"fault": "memory_leak"})


def _rss_bytes() -> int:
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("no /proc/self/status here")
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def test_memory_leak_probability_zero_holds_nothing(chaos, monkeypatch):
    monkeypatch.setattr(MemoryLeak, "round_s", 0.01)
    _leak(chaos, probability=0.0, mb_per_s=100, max_mb=100)
    kind = _kind(chaos)
    wait_for(lambda: kind.rounds >= 20, what="20 rounds drawn")
    assert kind.held_bytes == 0
    assert chaos.metric("cart", HELD) == 0
    assert _fired(chaos) == 0


def test_memory_leak_grows_by_its_rate_each_round_and_shows_in_rss(chaos):
    rss_before = _rss_bytes()
    started = time.monotonic()
    _leak(chaos, mb_per_s=50, max_mb=1000)
    kind = _kind(chaos)
    wait_for(lambda: kind.held_bytes >= 20 * MIB, what="20 MiB held")
    fired_before = _fired(chaos)  # a round counts its injection, then allocates
    held, elapsed = kind.held_bytes, time.monotonic() - started
    fired_after = _fired(chaos)
    # every round fired and took 50 MiB/s x 0.1 s = 5 MiB, no more, no less
    assert held % (5 * MIB) == 0
    assert (fired_before - 1) * 5 * MIB <= held <= fired_after * 5 * MIB
    # paced by the clock: never ahead of the rate, however late a busy machine runs it
    assert held <= 50 * MIB * (elapsed + MemoryLeak.round_s)
    assert chaos.metric("cart", HELD) >= held  # the gauge reads it live
    assert _rss_bytes() - rss_before > 0.5 * held  # the pages are really touched


def test_memory_leak_stops_at_the_cap(chaos):
    _leak(chaos, mb_per_s=100, max_mb=3)
    kind = _kind(chaos)
    wait_for(lambda: kind.held_bytes == 3 * MIB, what="the cap reached")
    rounds = kind.rounds
    wait_for(lambda: kind.rounds >= rounds + 3, what="three more rounds")  # still running,
    assert kind.held_bytes == 3 * MIB  # still capped
    assert chaos.metric("cart", HELD) == 3 * MIB


def test_memory_leak_probability_three_tenths_is_binomial(chaos, monkeypatch):
    monkeypatch.setattr(MemoryLeak, "round_s", 0.002)
    fault = _leak(chaos, probability=0.3, mb_per_s=1, max_mb=2048)
    kind = _kind(chaos)
    wait_for(lambda: kind.rounds >= 300, timeout_s=60, what="300 rounds drawn")
    _remove(chaos, fault["name"])  # joins the leaker: its counts are final
    low, high = binomial_bounds(kind.rounds, 0.3)
    assert low <= _fired(chaos) <= high


def test_memory_leak_removal_frees_everything(chaos):
    fault = _leak(chaos, mb_per_s=100, max_mb=20)
    kind = _kind(chaos)
    wait_for(lambda: kind.held_bytes > 0, what="something held")
    _remove(chaos, fault["name"])
    assert kind.held_bytes == 0
    assert kind._chunks == []
    assert _leakers() == []
    assert chaos.metric("cart", HELD) == 0
    assert (
        chaos.metric("cart", "shopsim_fault_active", {"fault": "memory_leak", "target": "cart"})
        == 0
    )


def test_memory_leak_expiry_stops_growth_and_frees(chaos):
    fault = _leak(chaos, mb_per_s=10, max_mb=100)
    kind = _kind(chaos)
    wait_for(lambda: kind.held_bytes > 0, what="something held")
    (leaker,) = _leakers()
    expire(chaos, fault["name"])
    leaker.join(timeout=30)  # the leaker watches the deadline itself
    assert not leaker.is_alive()
    held = kind.held_bytes
    assert held > 0  # stopped growing; freed once the service sweeps the fault away
    chaos.ctx("cart").faults.purge()  # what the service's expiry worker does
    assert kind.held_bytes == 0
    assert chaos.metric("cart", HELD) == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [({"mb_per_s": 0}, "params.mb_per_s"), ({"max_mb": 4096}, "params.max_mb")],
)
def test_memory_leak_bad_params_are_refused(chaos, params, field):
    spec = {"type": "memory_leak", "target": "cart", "duration_s": 5, "params": params}
    response = chaos.client("cart").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert _leakers() == []
