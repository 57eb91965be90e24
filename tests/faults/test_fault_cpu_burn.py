"""cpu_burn: burner threads in the target's process eat its CPU (and the GIL its requests need).

CPU is read from the burner threads' own clocks, which a busy machine slows but never fakes:
tests wait until enough has burned instead of timing a window of wall time."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from shopsim.faults.types.cpu_burn import CpuBurn
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire, wait_for

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


def _cpu_s(threads: list[threading.Thread]) -> float:
    """CPU seconds the live threads have used so far, from their own clocks (Linux): what else
    the machine runs can slow them down, never add to them."""
    total = 0.0
    for thread in threads:
        if thread.is_alive() and thread.ident is not None:  # a joined thread has no clock
            with contextlib.suppress(OSError):  # ended meanwhile
                total += time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return total


def test_cpu_burn_probability_zero_never_burns(chaos, monkeypatch):
    monkeypatch.setattr(CpuBurn, "round_s", 0.01)
    fault = _burn(chaos, probability=0.0, percent=100, threads=2)
    kind, burners = _kind(chaos), _burners()
    assert len(burners) == 2
    wait_for(lambda: kind.rounds >= 40, what="40 rounds drawn")
    cpu = _cpu_s(burners)
    _remove(chaos, fault["name"])
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cpu_burn"}) == 0
    assert cpu < 0.1  # a draw per round; 40 burned rounds of 10 ms would be 0.4 s


def test_cpu_burn_probability_one_burns_every_round(chaos):
    fault = _burn(chaos, percent=100, threads=1)
    kind, burners = _kind(chaos), _burners()
    assert len(burners) == 1 and burners[0].is_alive()
    wait_for(lambda: _cpu_s(burners) >= 0.3, timeout_s=120, what="0.3 s of CPU burned")
    _remove(chaos, fault["name"])
    assert kind.rounds >= 3  # 0.3 s of CPU needs three rounds of 100 ms at least
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cpu_burn"}) == kind.rounds


def test_cpu_burn_percent_caps_the_burn_of_each_round(chaos):
    fault = _burn(chaos, percent=10, threads=1)
    kind, burners = _kind(chaos), _burners()
    wait_for(lambda: _cpu_s(burners) >= 0.05, timeout_s=120, what="some CPU burned")
    cpu_before_stop = _cpu_s(burners)
    _remove(chaos, fault["name"])  # joins the burner: its rounds are final
    # each round spins for 10 % of 100 ms of wall time, so never more CPU than that
    assert cpu_before_stop <= kind.rounds * 0.01 + 0.05
    assert kind.rounds >= 5


def test_cpu_burn_probability_three_tenths_is_binomial(chaos, monkeypatch):
    monkeypatch.setattr(CpuBurn, "round_s", 0.002)
    fault = _burn(chaos, probability=0.3, percent=1, threads=4)
    kind = _kind(chaos)
    wait_for(lambda: kind.rounds >= 400, timeout_s=60, what="400 rounds drawn")
    _remove(chaos, fault["name"])
    low, high = binomial_bounds(kind.rounds, 0.3)
    assert low <= chaos.metric("catalog", INJECTIONS, {"fault": "cpu_burn"}) <= high


def test_cpu_burn_removal_stops_the_threads(chaos):
    fault = _burn(chaos, percent=100, threads=3)
    burners = _burners()
    assert len(burners) == 3
    labels = {"fault": "cpu_burn", "target": "catalog"}
    assert chaos.metric("catalog", "shopsim_fault_active", labels) == 1
    _remove(chaos, fault["name"])
    assert _burners() == [] and not any(t.is_alive() for t in burners)  # joined, not orphaned
    assert chaos.metric("catalog", "shopsim_fault_active", labels) == 0


def test_cpu_burn_expiry_ends_the_burn(chaos):
    fault = _burn(chaos, percent=100, threads=2)
    burners = _burners()
    assert len(burners) == 2
    expire(chaos, fault["name"])
    for burner in burners:  # the burners watch the deadline themselves
        burner.join(timeout=30)
        assert not burner.is_alive()
    chaos.ctx("catalog").faults.purge()  # what the service's expiry worker does
    assert chaos.ctx("catalog").faults.active() == []
    labels = {"fault": "cpu_burn", "target": "catalog"}
    assert chaos.metric("catalog", "shopsim_fault_active", labels) == 0


@pytest.mark.parametrize(
    ("params", "field"), [({"percent": 0}, "params.percent"), ({"threads": 5}, "params.threads")]
)
def test_cpu_burn_bad_params_are_refused(chaos, params, field):
    spec = {"type": "cpu_burn", "target": "catalog", "duration_s": 5, "params": params}
    response = chaos.client("catalog").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert _burners() == []
