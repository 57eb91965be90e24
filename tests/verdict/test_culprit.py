"""The culprit on synthetic runs with a known root: a slow leaf, a failing edge, a saturated
dependency, victims upstream of each, and quiet business harm."""

from __future__ import annotations

from shopsim.settings import DEPENDENCIES
from shopsim.verdict.culprit import Candidate, baseline_rounds, descendants, localise, root_of
from tests.verdict import synth

WINDOW = range(40, 60)


def test_a_slow_payment_is_the_root_not_its_callers():
    series = synth.healthy()
    synth.slow_down(series, "payment", WINDOW, 1.5)
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service == "payment"
    assert culprit.evidence[0].signal == "self_time"
    assert culprit.onset_s == 40.0
    scores = {c.service: c.score for c in culprit.ranking}
    assert scores["checkout"] < 3 and scores["storefront"] < 3  # victims: they only waited


def test_the_route_named_is_where_the_slowed_time_went_not_a_rare_one():
    # payment-brownout: every route 0.5-1.3s slower; a void (2 calls) slowed most per call
    series = synth.healthy()
    synth.slow_down(series, "payment", WINDOW, 0.5)
    payment = series.services["payment"]
    payment.routes = {"/authorizations": synth.histo(len(series), 10.0, 0.3)}
    payment.routes["/void"] = synth.histo(len(series), 0.1, 0.3)
    synth.set_latency(payment.routes["/authorizations"], WINDOW, 0.8)
    synth.set_latency(payment.routes["/void"], WINDOW, 1.6)
    assert localise(series, DEPENDENCIES, 40, 59).route == "/authorizations"


def test_failing_calls_into_cart_name_cart_even_when_cart_itself_is_silent():
    series = synth.healthy()
    synth.fail_edge_into(series, "cart", WINDOW, 0.8, outcome="connect_error")
    series.services["cart"].up[40:60] = [False] * 20  # an outage: its own metrics are gone
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service == "cart"
    assert culprit.route in {f"{c}->cart" for c, deps in DEPENDENCIES.items() if "cart" in deps}


def test_calls_a_callers_open_breaker_cut_off_count_against_the_callee():
    # Cart fails every call; its callers' breakers open at once and stay open, sending nothing
    # but a rare probe. The calls cut off are the callers' evidence too, not a gap in it.
    series = synth.healthy()
    for e in synth.callers_of(series, "cart"):
        for i in WINDOW:
            probe = 1.0 if i % 10 == 0 else 0.0
            e.outcomes["breaker_open"][i] = (e.attempts[i] or 0) - probe
            e.outcomes["success"][i] = 0.0
            e.outcomes["connect_error"][i] = e.failures[i] = e.attempts[i] = probe
        caller = series.services[e.caller]
        for i in WINDOW:
            caller.errors[i] = caller.errors_dependency[i] = (caller.requests[i] or 0) * 0.3
    culprit = localise(series, DEPENDENCIES, 45, 59)  # noticed late: the breakers were open
    assert culprit.service == "cart"
    assert culprit.evidence[0].signal == "edge_failures"
    assert culprit.evidence[0].during == 1.0
    assert culprit.onset_s == 40.0


def test_a_caller_failing_on_its_own_open_breaker_passes_the_blame_down():
    # error-catalog in the accuracy suite: catalog answered 35% 503s of its own; checkout's
    # breaker on catalog opened, so checkout failed every order (errors passed up, none its
    # own) and the storefront's breaker on checkout opened in turn. Checkout's callers saw
    # 100% of calls fail against catalog's 35%, and checkout was named.
    series = synth.healthy()
    synth.fail_edge_into(series, "catalog", WINDOW, 0.35, outcome="server_error")
    synth.errors_of_its_own(series, "catalog", WINDOW, 0.35)
    for e in synth.callers_of(series, "checkout"):
        for i in WINDOW:
            calls, cut = e.attempts[i] or 0, i % 2 == 1  # the breaker opens, probes, opens
            e.outcomes["success"][i] = 0.0
            e.outcomes["breaker_open"][i] = calls if cut else 0.0
            e.outcomes["server_error"][i] = e.failures[i] = e.attempts[i] = 0.0 if cut else calls
    checkout = series.services["checkout"]
    for i in WINDOW:
        checkout.errors[i] = checkout.errors_dependency[i] = checkout.requests[i] or 0
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service == "catalog", [(c.service, c.score) for c in culprit.ranking]


def test_errors_a_service_passes_up_from_a_dependency_are_not_its_own():
    series = synth.healthy()
    synth.fail_edge_into(series, "inventory", WINDOW, 0.5, outcome="server_error")
    synth.errors_of_its_own(series, "inventory", WINDOW, 0.5)
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service == "inventory"


def test_a_saturated_dependency_is_found_by_its_callers_waiting():
    series = synth.healthy()
    inv = series.services["inventory"]
    for i in WINDOW:
        inv.busy[i] = inv.threads
        inv.in_flight[i] = 40.0
    for e in synth.callers_of(series, "inventory"):
        for i in (
            WINDOW
        ):  # the requests queue for a thread: callers wait, inventory's own time does not grow
            e.attempt_time[i] = (e.attempts[i] or 0) * 0.8
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service == "inventory"
    assert {e.signal for e in culprit.evidence} >= {"queue_time", "busy_self"}
    assert culprit.reason.startswith("saturated")


def test_quiet_harm_is_found_from_business_numbers_out_of_proportion():
    series = synth.healthy()
    series.business["gift_purchases"] = [0.5] * len(series)
    series.business["gift_alert_mails"] = [0.5] * len(series)
    for i in WINDOW:
        series.business["gift_alert_mails"][i] = 100.0  # every customer gets the alert
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service == "notifications"
    assert culprit.evidence[0].label == "gift_alerts_out_of_proportion"


def test_nothing_standing_out_names_no_one():
    series = synth.healthy()
    culprit = localise(series, DEPENDENCIES, 40, 59)
    assert culprit.service is None


def test_a_dependency_scoring_close_to_its_caller_is_the_root():
    graph = {"a": ("b",), "b": ("c",), "c": ()}
    ranking = [Candidate("a", 10.0), Candidate("c", 6.0), Candidate("b", 1.0)]
    assert root_of(ranking, graph).service == "c"
    ranking = [Candidate("a", 10.0), Candidate("c", 4.0), Candidate("b", 1.0)]
    assert root_of(ranking, graph).service == "a"


def test_descendants_follow_the_call_graph():
    assert descendants(DEPENDENCIES, "storefront") >= {"checkout", "payment", "inventory"}
    assert descendants(DEPENDENCIES, "payment") == set()


def test_the_baseline_is_the_calm_before_and_skips_earlier_windows():
    base = baseline_rounds(200, 100, [(10, 30)])
    assert base and min(base) > 30 and max(base) < 100
    assert len(base) <= 30
    # an incident right at the start borrows calm rounds from after the window
    early = baseline_rounds(100, 2, [], after=20)
    assert early[0] == 1 and all(i > 20 for i in early[1:])
