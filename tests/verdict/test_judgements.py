"""Validity, expectations and exit codes: the parts of the verdict that decide pass or fail."""

from __future__ import annotations

from dataclasses import fields, replace
from types import SimpleNamespace

from shopsim.verdict import exitcodes
from shopsim.verdict.expectations import score
from shopsim.verdict.impact import affected_customers
from shopsim.verdict.impact_db import ImpactFacts
from shopsim.verdict.validity import judge_validity
from tests.verdict import synth


def _expect(**given):
    fields = dict(
        culprit=None,
        detected_within_s=None,
        recovers_within_s=None,
        metastable=None,
        integrity_clean=None,
        slo_breaches=None,
        thresholds={},
    )
    return SimpleNamespace(**(fields | given))


def test_a_load_generator_running_flat_out_makes_the_run_invalid():
    series = synth.healthy(60)
    series.load_cpu = [95.0] * 60
    validity = judge_validity(series)
    assert not validity.valid and "CPU" in validity.reasons[0]


def test_dropped_and_late_arrivals_make_the_run_invalid():
    series = synth.healthy(60)
    series.dropped = [1.0] * 60  # 1 of 8 arrivals a second
    series.late = [2.0] * 60
    reasons = judge_validity(series).reasons
    assert len(reasons) == 2


def test_a_few_late_arrivals_on_a_shared_machine_keep_the_run_valid():
    series = synth.healthy(60)
    series.late = [0.5] * 60  # 1 in 16 arrivals a little late: noise, not a harness limit
    assert judge_validity(series).valid
    series.late = [1.0] * 60  # 1 in 8: the schedule slipped
    assert not judge_validity(series).valid


def test_a_quiet_load_generator_is_valid():
    assert judge_validity(synth.healthy(60)).valid


def test_expectations_compare_in_rehearsal_seconds():
    facts = {"culprit": "payment", "detection_from_fault_s": 6.0, "recovery_seconds": None}
    results = {
        e.name: e
        for e in score(
            _expect(culprit="payment", detected_within_s=20.0, recovers_within_s=30.0), facts, 4.0
        )
    }
    assert results["culprit"].passed
    assert not results["detected_within_s"].passed  # 20 s / 4 = 5 s, took 6
    assert not results["recovers_within_s"].passed  # never recovered


def test_expected_harm_passes_only_when_it_happened_and_was_caught():
    expect = _expect(integrity_clean=False)
    assert score(expect, {"integrity_clean": False, "alerted": True}, 1.0)[0].passed
    assert not score(expect, {"integrity_clean": False, "alerted": False}, 1.0)[0].passed
    assert not score(expect, {"integrity_clean": True, "alerted": True}, 1.0)[0].passed


def test_thresholds_bound_named_figures():
    expect = _expect(thresholds={"checkout_success_min": 0.99, "error_pages_max": 0})
    results = score(expect, {"figures": {"checkout_success": 0.995, "error_pages": 3}}, 1.0)
    assert [(e.name, e.passed) for e in results] == [
        ("checkout_success_min", True),
        ("error_pages_max", False),
    ]


def _code(**given):
    args = dict(
        outcome="completed",
        valid=True,
        integrity={"checked": True, "violations": {}},
        expectations=[],
        breached=[],
        expected_breaches=None,
        expects_harm=False,
    )
    return exitcodes.exit_code(**(args | given))[0]


def test_exit_code_is_zero_only_when_everything_holds():
    assert _code() == exitcodes.OK


def test_each_kind_of_failure_has_its_own_exit_code():
    assert _code(breached=["checkout_availability"]) == exitcodes.SLO
    assert (
        _code(integrity={"checked": True, "violations": {"duplicate_charge": 2}})
        == exitcodes.INTEGRITY
    )
    assert (
        _code(expectations=[{"name": "culprit", "expected": "a", "actual": "b", "passed": False}])
        == exitcodes.EXPECTATION
    )
    assert _code(valid=False) == exitcodes.INVALID
    assert _code(outcome="stopped") == exitcodes.ABORTED
    assert _code(outcome="error") == exitcodes.ERROR
    assert _code(outcome="interrupted") == exitcodes.INTERRUPTED


def test_expected_breaches_and_expected_harm_are_covered():
    assert (
        _code(breached=["checkout_availability"], expected_breaches=["checkout_availability"]) == 0
    )
    harm = {"checked": True, "violations": {"wrong_gift_alert_recipient": 40}}
    assert _code(integrity=harm, expects_harm=True) == 0


def test_the_most_serious_failure_wins():
    assert _code(valid=False, breached=["checkout_latency"], outcome="stopped") == exitcodes.INVALID
    assert (
        _code(breached=["checkout_latency"], integrity={"checked": True, "violations": {"x": 1}})
        == exitcodes.INTEGRITY
    )


def _db(customers: int | None) -> ImpactFacts:
    empty = ImpactFacts(**{f.name: None for f in fields(ImpactFacts)})
    return replace(empty, customers_affected=customers)


def test_customers_turned_away_before_checkout_are_affected_too():
    # The storefront's 503s reached no database: checkout's data knows of no failed customer,
    # the load generator saw 31 customers' journeys fail.
    series = synth.healthy()
    series.customers_hurt = [0.0] * 50 + [31.0] * (len(series) - 51) + [None]
    assert affected_customers(series, _db(0)) == 31
    assert affected_customers(series, None) == 31
    # a run from before the gauge: what the data says
    assert affected_customers(synth.healthy(), _db(12)) == 12
    assert affected_customers(synth.healthy(), None) is None
