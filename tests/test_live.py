"""The game day's live line, rendered from hand-made derived values."""

from __future__ import annotations

from types import SimpleNamespace

from shopsim.gameday.live import LiveView, render, worth_warning

HEALTHY = {
    "arrivals_per_s": 29.8,
    "checkouts_per_s": 5.2,
    "checkouts_in_flight": 12.0,
    "checkout_error_ratio": 0.29,
    "checkout_p95_seconds": 2.41,
    "error_pages_per_s": 3.0,
    "load_cpu_percent": 40.0,
    "dropped_arrivals_per_s": 0.0,
}
#: Payment hangs: arrivals keep coming, no checkout is answered, they pile up in flight.
OUTAGE = HEALTHY | {
    "checkouts_per_s": 0.0,
    "checkouts_in_flight": 153.0,
    "checkout_error_ratio": None,
    "checkout_p95_seconds": None,
    "error_pages_per_s": 0.0,
}
NO_DATA = dict.fromkeys(HEALTHY)


def test_healthy_second_shows_answered_and_waiting_checkouts():
    line = render(42, "stage 2/4", HEALTHY, ["latency->payment"], [])
    assert line.startswith("t=   42s  stage 2/4   arrivals  29.8/s  ")
    assert "checkouts  5.2/s ok  71.0% in flight   12  p95  2.41s  dog  3.0/s" in line
    assert line.endswith("faults latency->payment")
    assert "!" not in line


def test_total_outage_reads_as_zero_answered_and_a_pile_in_flight():
    line = render(40, "stage 2/2", OUTAGE, [], [])
    assert "checkouts  0.0/s ok   -    in flight  153" in line
    assert line.endswith("! no checkout answered in 5s, 153 waiting")


def test_first_checkouts_on_their_way_are_no_outage():
    assert "!" not in render(4, "stage 1/2", OUTAGE | {"checkouts_in_flight": 2.0}, [], [])


def test_no_data_is_dashes_and_no_outage_warning():
    line = render(1, "stage 1/2", NO_DATA, [], [])
    assert "arrivals    -     checkouts   -    ok   -    in flight  -    p95   -   " in line
    assert "!" not in line


def test_quiet_second_without_checkouts_is_no_outage():
    calm = OUTAGE | {"checkouts_in_flight": 0.0}
    assert "!" not in render(40, "stage 2/2", calm, [], [])


def test_columns_stay_put_whatever_the_values():
    lines = [render(9, "stage 1/2", v, [], []) for v in (HEALTHY, OUTAGE, NO_DATA)]
    for column in ("checkouts", "ok", "in flight", "p95", "dog"):
        assert len({line.index(f" {column} ") for line in lines}) == 1, column


def test_other_warnings_join_the_outage_warning():
    busy = OUTAGE | {"load_cpu_percent": 95.0, "dropped_arrivals_per_s": 2.0}
    line = render(20, "stage 2/2", busy, [], ["load-2", "payment"])
    warnings = line.split("  ! ", 1)[1].split("; ")
    assert warnings == [
        "no checkout answered in 5s, 153 waiting",
        "load CPU 95%: latencies not trustworthy",
        "dropping 2.0 arrivals/s",
        "no metrics from load-2,payment",
    ]


def test_missing_sources_are_not_reported_in_the_first_seconds():
    assert "!" not in render(3, "stage 1/2", HEALTHY, [], ["load", "load-1"])
    assert "no metrics from load,load-1" in render(4, "stage 1/2", HEALTHY, [], ["load", "load-1"])


def test_load_sources_going_quiet_after_the_schedule_are_no_news():
    failed = ["load", "load-1", "load-2", "checkout"]
    assert worth_warning(failed, load_expected=True) == failed
    assert worth_warning(failed, load_expected=False) == ["checkout"]
    assert worth_warning(["loader"], load_expected=False) == ["loader"]  # a service's name


def test_closed_model_shows_users_and_the_view_prints_one_line():
    printed: list[str] = []
    stages = [SimpleNamespace(duration_s=30.0), SimpleNamespace(duration_s=60.0)]
    scenario = SimpleNamespace(load=SimpleNamespace(stages=stages, model="closed"))
    view = LiveView(printed.append, scenario, time_scale=3.0)
    assert [view.phase(t) for t in (0, 9.9, 10, 29.9, 30)] == [
        "stage 1/2",
        "stage 1/2",
        "stage 2/2",
        "stage 2/2",
        "ending",
    ]
    view.show(12, view.phase(12), HEALTHY | {"load_target": 40.0}, [], [])
    assert len(printed) == 1
    assert printed[0].startswith("t=   12s  stage 2/2   users   40  checkouts  5.2/s")
