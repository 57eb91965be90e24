"""Burn rates, multiwindow alerts and degradation windows on synthetic runs."""

from __future__ import annotations

import pytest

from shopsim.verdict.alerts import (
    Alert,
    burn_alerts,
    burn_rate,
    business_alerts,
    detection,
    firings,
    windowed,
)
from shopsim.verdict.slo import TIERS, Slo
from shopsim.verdict.windows import find_windows
from tests.verdict import synth

AVAIL = Slo("checkout_availability", 0.99, "checkout_availability")
LATENCY = Slo("checkout_latency", 0.95, "checkout_latency", 2.5)
BROWSE = Slo("browse_availability", 0.995, "browse_availability")
SLOS = [AVAIL, LATENCY, BROWSE]


def test_windowed_sums_the_trailing_window_by_time():
    t = [0.0, 1.0, 2.0, 3.0, 4.0]
    assert windowed(t, [1.0, 1.0, None, 1.0, 1.0], 2.0) == [1.0, 2.0, 1.0, 1.0, 2.0]


def test_burn_rate_is_bad_share_over_the_budget():
    series = synth.healthy(20)
    synth.customers_hurt(series, range(10, 20), 0.1)  # 10% failing with a 1% budget
    rates = burn_rate(series, AVAIL, 4.0)
    assert rates[5] == 0.0
    assert rates[19] == pytest.approx(10.0)


def test_the_fast_tier_fires_on_a_bad_outage_and_clears_after_it():
    series = synth.healthy(120)
    synth.customers_hurt(series, range(40, 70), 0.5)
    alerts = [a for a in burn_alerts(series, SLOS, factor=60.0) if a.name.endswith("fast_burn")]
    assert len(alerts) == 1
    fast = alerts[0]
    # the long window (1h / 60 = 60 s) needs 14.4% bad: about 17 s of a 50% outage
    assert 54 <= fast.fired_at_s <= 58
    assert fast.cleared_at_s is not None and 70 <= fast.cleared_at_s <= 76  # short window


def test_a_trickle_of_failures_under_the_budget_fires_nothing():
    series = synth.healthy(120)
    synth.customers_hurt(series, range(0, 120), 0.005)
    assert burn_alerts(series, SLOS, factor=60.0) == []


def test_tier_windows_scale_and_keep_four_scrapes():
    fast = next(t for t in TIERS if t.name == "fast_burn")
    assert fast.windows(60.0)[:2] == (60.0, 5.0)
    assert fast.windows(240.0)[:2] == (15.0, 4.0)  # 5 m / 240 = 1.25 s, kept at 4 scrapes


def test_firings_respect_for_and_report_the_peak():
    t = [float(i) for i in range(8)]
    holds = [False, True, True, True, False, True, False, False]
    size = [0, 2, 5, 3, 0, 9, 0, 0]
    assert firings(t, holds, size, for_s=1.0) == [(2.0, 4.0, 5)]


def test_gift_alerts_out_of_proportion_fire_a_business_alert():
    series = synth.healthy(60)
    series.business["gift_purchases"] = [1.0] * 60
    series.business["gift_alert_mails"] = [1.0] * 30 + [150.0] * 30
    found = [a for a in business_alerts(series, 60.0) if a.name == "gift_alerts_out_of_proportion"]
    assert len(found) == 1 and found[0].owner == "notifications"
    assert 30 <= found[0].fired_at_s <= 31


def test_two_separate_incidents_are_two_windows():
    series = synth.healthy(150)
    synth.customers_hurt(series, range(30, 45), 0.6)
    synth.customers_hurt(series, range(100, 110), 0.6)
    windows = find_windows(series, SLOS, [], gap_s=10)
    assert [(w.start_s, w.kinds) for w in windows] == [
        (30.0, ("checkout",)),
        (100.0, ("checkout",)),
    ]
    assert 44 <= windows[0].end_s <= 49


def test_a_total_outage_is_a_window_though_nothing_fails():
    series = synth.healthy(60)
    for i in range(20, 40):  # nothing answered at all while orders wait
        series.checkout_good[i] = series.checkout_bad[i] = 0.0
        series.checkouts_in_flight[i] = 30.0
    windows = find_windows(series, SLOS, [], gap_s=10)
    assert len(windows) == 1 and windows[0].start_s == 20.0


def test_a_trickle_of_answers_while_a_queue_grows_is_a_window():
    # retry-storm, once on a busy machine: one checkout answered a round while 50-80 waited;
    # too few answers for the shares, so the rounds read healthy and the storm "recovered"
    series = synth.healthy(60)
    for i in range(20, 40):
        series.checkout_good[i], series.checkout_bad[i] = (1.0, 0.0) if i % 2 else (0.0, 0.0)
        series.checkouts_in_flight[i] = 10.0 + 3 * (i - 20)
    windows = find_windows(series, SLOS, [], gap_s=10)
    # from when more wait than the last five rounds answered (16 of them: 4 a round)
    assert [(w.start_s, w.end_s) for w in windows] == [(22.0, 39.0)]


def test_a_busy_but_flowing_checkout_has_no_window():
    series = synth.healthy(60)  # 4 answered a round: 20 in the rolling window
    series.checkouts_in_flight = [19.0] * 60
    assert find_windows(series, SLOS, [], gap_s=10) == []


def test_a_healthy_run_has_no_window():
    assert find_windows(synth.healthy(60), SLOS, [], gap_s=10) == []


def test_a_window_inside_an_alert_still_firing_is_detected_at_once():
    # cart-outage: the browse burn alert fired at 33s and never cleared; the later browse
    # window (58.6s-61.2s) of the same outage was reported as detected by no alert
    burn = Alert("browse_availability_budget_burn", "burn_rate", "ticket", 33.0, None, 4.6)
    assert detection([burn], 30.0, 49.2) == (burn, 3.0)
    assert detection([burn], 58.6, 61.2) == (burn, 0.0)
    cleared = Alert("checkout_availability_budget_burn", "burn_rate", "page", 10.0, 20.0, 9.0)
    assert detection([cleared], 58.6, 61.2) == (None, 0.0)
    later = Alert("gift_alerts_out_of_proportion", "business", "page", 60.0, None, 3.0)
    assert detection([burn, later], 58.5, 61.2) == (later, 1.5)
