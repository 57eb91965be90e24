"""Budgets: resource faults stacked on one service may not take more than its budget of memory,
burner threads or lock holders. The chaos API refuses the excess with a 409 naming the budget;
a scenario whose overlapping faults would go over is refused when loaded, at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsim.faults.budget import BUDGETS
from shopsim.gameday.loader import ScenarioError, load_scenario
from tests.faults.conftest import LOOPBACK, add_fault, expire

# probability 0: the faults are installed (and take their budget) but never allocate or burn
LEAK = {"type": "memory_leak", "target": "cart", "duration_s": 60, "probability": 0.0}
BURN = {"type": "cpu_burn", "target": "catalog", "duration_s": 60, "probability": 0.0}
LOCK = {"type": "db_lock", "target": "inventory", "duration_s": 60, "probability": 0.0}


def _post(store, spec: dict, service: str):
    return store.client(service).post("/_chaos/faults", json=spec, environ_base=LOOPBACK)


def _names(store, service: str) -> list[str]:
    return [f.spec.name for f in store.ctx(service).faults.active()]


def _refused(store, spec: dict, service: str, budget: str) -> dict:
    response = _post(store, spec, service)
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "over_budget" and error["budget"] == budget
    assert budget in error["message"] and service in error["message"]
    assert error["limit"] == BUDGETS[budget].limit
    return error


def test_memory_beyond_the_budget_is_refused_with_409(chaos):
    add_fault(chaos, LEAK | {"name": "big", "params": {"max_mb": 2048}})
    error = _refused(chaos, LEAK | {"name": "more", "params": {"max_mb": 1}}, "cart", "memory_mb")
    assert "2048 + 1 MiB" in error["message"]
    assert _names(chaos, "cart") == ["big"]  # the refused one is not installed
    # the budget is per service: the same fault on catalog fits
    add_fault(chaos, LEAK | {"name": "more", "target": "catalog", "params": {"max_mb": 2048}})


def test_faults_fill_the_budget_exactly_and_not_one_unit_more(chaos):
    for name in ("a", "b"):
        add_fault(chaos, LEAK | {"name": name, "params": {"max_mb": 1024}})
    _refused(chaos, LEAK | {"name": "c", "params": {"max_mb": 1}}, "cart", "memory_mb")
    for i, threads in enumerate((3, 1)):
        add_fault(chaos, BURN | {"name": f"burn{i}", "params": {"threads": threads, "percent": 1}})
    _refused(chaos, BURN | {"name": "burn2", "params": {"threads": 1}}, "catalog", "burner_threads")
    for name in ("lock0", "lock1"):
        add_fault(chaos, LOCK | {"name": name})
    _refused(chaos, LOCK | {"name": "lock2"}, "inventory", "held_locks")
    assert sorted(_names(chaos, "inventory")) == ["lock0", "lock1"]


def test_removed_and_expired_faults_give_their_budget_back(chaos):
    add_fault(chaos, LEAK | {"name": "first", "params": {"max_mb": 2048}})
    _refused(chaos, LEAK | {"name": "second", "params": {"max_mb": 2048}}, "cart", "memory_mb")
    response = chaos.client("cart").delete("/_chaos/faults/first", environ_base=LOOPBACK)
    assert response.status_code == 200
    add_fault(chaos, LEAK | {"name": "second", "params": {"max_mb": 2048}})
    expire(chaos, "second")
    add_fault(chaos, LEAK | {"name": "third", "params": {"max_mb": 2048}})
    assert _names(chaos, "cart") == ["third"]


def test_other_faults_take_no_budget(chaos):
    add_fault(chaos, LEAK | {"name": "big", "params": {"max_mb": 2048}})
    for i in range(3):
        add_fault(
            chaos, {"name": f"slow{i}", "type": "latency", "target": "cart", "duration_s": 60}
        )
    assert len(_names(chaos, "cart")) == 4


SCENARIO = """\
name: stacked
description: resource faults on one timeline
duration: 100s
load:
  model: open
  stages:
    - {duration: 30s, rate: 4}
faults:
"""


def _load(tmp_path: Path, faults: str) -> object:
    path = tmp_path / "stacked.yaml"
    path.write_text(SCENARIO + faults)
    return load_scenario(path)


def _refused_scenario(tmp_path: Path, faults: str) -> str:
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, faults)
    return str(info.value)


def test_scenario_whose_overlapping_faults_exceed_a_budget_is_refused(tmp_path):
    faults = """\
  - {at: 0s, duration: 30s, type: memory_leak, target: cart, params: {max_mb: 2048}}
  - {at: 10s, duration: 30s, type: latency, target: cart}
  - {at: 20s, duration: 30s, type: memory_leak, target: cart, params: {max_mb: 1}}
"""
    message = _refused_scenario(tmp_path, faults)
    line = len(SCENARIO.splitlines()) + 3  # the third fault's own line
    where = f"{tmp_path / 'stacked.yaml'}:{line}: faults[2]: "
    assert message.startswith(where), message
    assert "faults[0]" in message and "cart at 20s" in message and "memory_mb" in message
    assert "\n" not in message


def test_scenario_counts_only_faults_active_at_the_same_time(tmp_path):
    faults = """\
  - {at: 0s, duration: 30s, type: cpu_burn, target: catalog, name: a, params: {threads: 2}}
  - {at: 20s, duration: 20s, type: cpu_burn, target: catalog, name: b, params: {threads: 2}}
  - {at: 30s, duration: 20s, type: cpu_burn, target: catalog, name: c, params: {threads: 2}}
  - {at: 0s, duration: 60s, type: cpu_burn, target: cart, params: {threads: 4}}
  - {at: 0s, duration: 30s, type: memory_leak, target: cart, params: {max_mb: 2048}}
  - {at: 30s, duration: 30s, type: memory_leak, target: cart, params: {max_mb: 2048}}
"""
    scenario = _load(tmp_path, faults)  # back to back and side by side: never over
    assert len(scenario.faults) == 6
    late = "  - {at: 25s, duration: 10s, type: cpu_burn, target: catalog, params: {threads: 1}}\n"
    message = _refused_scenario(tmp_path, faults + late)
    assert "faults[6]: with faults[0], faults[1] also active on catalog at 25s" in message
    assert "burner_threads" in message


def test_scenario_budget_check_finds_the_peak_inside_a_window(tmp_path):
    # faults[2] starts before faults[1]; the excess is at 15s, when faults[1] joins
    faults = """\
  - {at: 0s, duration: 60s, type: db_lock, target: inventory, name: a}
  - {at: 15s, duration: 10s, type: db_lock, target: inventory, name: b}
  - {at: 5s, duration: 30s, type: db_lock, target: inventory, name: c}
"""
    message = _refused_scenario(tmp_path, faults)
    assert "faults[2]: with faults[0], faults[1] also active on inventory at 15s" in message
    assert "held_locks" in message
