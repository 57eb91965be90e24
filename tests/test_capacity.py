"""`shopsim capacity`: the step scenario, the verdict's reading, argument mistakes, and one short
real search on a store of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopsim.capacity.render import answer, table, to_json
from shopsim.capacity.search import Found, Step
from shopsim.capacity.step import step_of
from shopsim.capacity.variant import rates_of, raw_of, variant, write_variant
from shopsim.cli import main
from shopsim.gameday.bundled import resolve_scenario
from shopsim.gameday.loader import load_scenario
from shopsim.settings import Settings
from tests.conftest import assert_all_gone, free_port_base

TINY = """\
name: tiny-open
description: a small open-model load on a healthy store, for the capacity test
seed: 5
duration: 10s
load:
  model: open
  stages:
    - {duration: 10s, rate: 2}
  mix: {browser: 60, shopper: 35, gift_buyer: 5}
faults:
  - {at: 2s, duration: 3s, type: outage, target: cart}
"""


def test_variant_keeps_mix_store_and_slos_and_drops_the_faults(tmp_path):
    path = resolve_scenario("labor-day-checkout")
    assert rates_of(load_scenario(path)) == (4.0, 36.0)
    step = write_variant(variant(raw_of(path), 12.5, 15, 99), tmp_path / "s.yaml")
    original = load_scenario(path)
    assert step.seed == 99 and step.duration_s == 15 and not step.faults
    assert [(s.rate, s.duration_s) for s in step.load.stages] == [(12.5, 15.0)]
    assert step.load.mix == original.load.mix and step.store == original.store
    assert step.slos == original.slos and not step.stop_conditions
    assert step.expectations.culprit is None


def test_step_reads_the_verdict():
    report = {
        "valid": False,
        "validity": {"reasons": ["dropped arrivals"]},
        "slos": [
            {"name": "checkout_availability", "achieved": 0.9, "passed": False},
            {"name": "browse_availability", "achieved": 1.0, "passed": True},
        ],
        "impact": {"checkout_p95_s": 3.1},
        "culprit": {"service": "payment", "reason": "payment saturated", "ranking": []},
        "run_dir": "/x",
    }
    step = step_of(report, 20.0, "ramp")
    assert (step.held, step.valid, step.good) == (False, False, False)
    assert (step.checkout_success, step.p95_s, step.culprit) == (0.9, 3.1, "payment")
    assert step.breached == ("checkout_availability",)
    assert "dropped arrivals" in step.note and "payment saturated" in step.note
    anomaly = {"culprit": None, "anomalies": [{"service": "inventory", "score": 9.0}]}
    assert step_of(report | anomaly, 20.0, "ramp").culprit == "inventory"
    held = step_of(report | {"slos": report["slos"][1:], "valid": True}, 5.0, "ramp")
    assert held.good and held.culprit is None


def test_answer_names_rate_culprit_headroom_and_invalidity():
    good = Step(16.0, True, True, 1.0, 0.4)
    bad = Step(19.0, False, False, 0.8, 3.0, "payment", ("checkout_latency",))
    found = Found(16.0, bad, [good, bad])
    line = answer(found, 8.0, "s")
    assert "capacity 16 arrivals/s" in line and "headroom 2x" in line
    assert "payment first" in line and "INVALID" in line
    data = to_json(found, {"peak_rate": 8.0})
    assert data["saturated_first"] == "payment" and data["valid"] is False
    assert len(data["steps"]) == 2 and data["headroom"] == 2.0
    assert "NO" in table(found.steps).splitlines()[3]


@pytest.mark.parametrize(
    "argv, named",
    [
        (["no-such-scenario"], "no-such-scenario"),
        (["steady-baseline"], "load.model"),
        (["labor-day-checkout", "--max-rate", "1e9"], "--max-rate"),
        (["labor-day-checkout", "--max-rate", "-3"], "--max-rate"),
        (["labor-day-checkout", "--start-rate", "nan"], "--start-rate"),
        (["labor-day-checkout", "--max-rate", "2"], "--max-rate"),
        (["labor-day-checkout", "--seed", "x"], "--seed"),
    ],
)
def test_bad_input_exits_2_naming_the_argument(argv, named, capsys, tmp_path):
    try:
        code = main(["capacity", *argv, "--out", str(tmp_path)])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert named in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing started, nothing written


@pytest.mark.processes
@pytest.mark.load
def test_a_short_real_search_writes_capacity_json(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    settings = Settings(port_base=free_port_base())
    out = tmp_path / "out"
    out.mkdir()
    argv = ["capacity", str(scenario), "--quick", "--max-rate", "2", "--out", str(out)]
    code = main([*argv, "--port-base", str(settings.port_base)])
    printed = capsys.readouterr().out
    found = list(out.glob("capacity-tiny-open-*/capacity.json"))
    assert len(found) == 1, printed
    data = json.loads(found[0].read_text())
    assert code == 0, printed
    assert data["rate"] == 2.0 and data["lower_bound_only"] and data["valid"]
    assert data["headroom"] == 1.0 and data["seed"] == 5
    [step] = data["steps"]
    assert step["held"] and step["checkout_success"] > 0.99 and step["p95_s"] > 0
    run = Path(step["run_dir"])
    assert json.loads((run / "report.json").read_text())["faults"] == []  # no fault in a step
    assert "capacity at least 2 arrivals/s" in printed
    assert_all_gone(settings, [])
