"""Recovery and metastability on synthetic runs: one that comes back, one that does not, and one
whose load fell away (not metastable: nobody was asking)."""

from __future__ import annotations

from shopsim.verdict.recovery import Trigger, find_trigger, judge_recovery
from shopsim.verdict.rundir import FaultWindow
from shopsim.verdict.slo import Slo
from shopsim.verdict.windows import checkout_degraded
from tests.verdict import synth

SLOS = [
    Slo("checkout_availability", 0.99, "checkout_availability"),
    Slo("checkout_latency", 0.95, "checkout_latency", 2.5),
    Slo("browse_availability", 0.995, "browse_availability"),
]
TRIGGER = Trigger("fault", 30.0, 45.0)


def _judge(series, trigger=TRIGGER):
    return judge_recovery(
        series,
        checkout_degraded(series, SLOS),
        trigger,
        hold_s=10.0,
        grace_s=10.0,
        culprit="payment",
    )


def test_a_store_that_comes_back_recovers_and_is_not_metastable():
    series = synth.healthy(120)
    synth.customers_hurt(series, range(30, 52), 1.0)
    result = _judge(series)
    assert not result.metastable
    assert result.recovered_at_s is not None and 52 <= result.recovered_at_s <= 57
    assert result.recovery_seconds == result.recovered_at_s - 45.0


def test_goodput_that_stays_down_under_the_same_load_is_metastable():
    series = synth.healthy(120)
    synth.customers_hurt(series, range(30, 120), 0.9)
    for e in synth.callers_of(series, "payment"):
        for i in range(30, 120):
            e.attempts[i] = 60.0
            e.retries[i] = 50.0
            e.outcomes["timeout"][i] = 55.0
    result = _judge(series)
    assert result.metastable
    assert result.recovery_seconds is None
    assert result.goodput_after < 0.5 * result.goodput_before
    assert result.evidence["attempts_per_call"] == 6.0


def test_goodput_down_because_the_load_went_away_is_not_metastable():
    series = synth.healthy(120)
    synth.customers_hurt(series, range(30, 120), 0.9)
    for i in range(45, 120):
        series.arrivals[i] = 1.0  # customers stopped coming
    assert not _judge(series).metastable


def test_the_drain_after_the_load_schedule_is_not_judged():
    # Metastable to the end of the schedule; then the load generator stops (target 0, no
    # arrivals) and the store drains for 20 rounds. Those rounds neither lower the load offered
    # after the trigger nor count as a recovery.
    series = synth.healthy(140)
    synth.customers_hurt(series, range(30, 120), 0.9)
    for i in range(120, 140):
        series.target[i] = 0.0
        series.arrivals[i] = 0.0
        series.checkout_good[i] = 0.0
        series.checkout_bad[i] = 0.0
    result = _judge(series)
    assert result.metastable, result
    assert result.recovered_at_s is None
    assert result.offered_after == result.offered_before


def test_the_trigger_is_the_span_of_the_faults():
    series = synth.healthy(100)
    faults = [
        FaultWindow("a", "latency", "payment", 20.0, 40.0),
        FaultWindow("b", "error", "cart", 30.0, 60.0),
    ]
    assert find_trigger(series, faults) == Trigger("fault", 20.0, 60.0)


def test_without_faults_a_surge_is_the_trigger():
    series = synth.healthy(100)
    series.target = [4.0] * 30 + [36.0] * 40 + [4.0] * 30
    assert find_trigger(series, []) == Trigger("surge", 30.0, 70.0)
    assert find_trigger(synth.healthy(100), []) is None
