"""The accuracy suite's scoring on synthetic data, and the suite's cases themselves."""

from __future__ import annotations

from array import array

import pytest

from shopsim.cli import main
from shopsim.gameday.loader import load_scenario
from shopsim.verdict.accuracy import (
    NOBODY,
    Incident,
    incident_starts,
    scores,
    shopsim_answer,
    surge_start,
)
from shopsim.verdict.accuracy_cli import QUICK, all_cases, declared_roots, pick
from shopsim.verdict.baseline import accuracy_at, baro_ranking
from shopsim.verdict.rundir import FaultWindow
from shopsim.verdict.samples import Samples, Source

ORIGIN = 1000.0


def samples(per_source: dict[str, dict[str, list[float]]], n: int) -> Samples:
    """Sources scraped every second for n rounds: raw series key -> value per round."""
    times = [ORIGIN + i for i in range(n)]
    sources = {}
    for name, series in per_source.items():
        src = Source(name, list(times))
        cols = [src.column(key) for key in series]
        src.rows = [array("d", [0.0] * len(cols)) for _ in times]
        for col, values in zip(cols, series.values(), strict=True):
            for i, v in enumerate(values):
                src.rows[i][col] = v
        sources[name] = src
    return Samples(times, sources)


def wobble(n: int, level: float) -> list[float]:
    return [level + (i % 3) * 0.1 for i in range(n)]


def test_baro_names_the_owner_of_the_metric_that_moves_most_after_the_split():
    n = 40
    cpu = wobble(n, 1.0)
    cpu[20:] = [5.0] * 20  # inventory's CPU jumps at 20s
    lat = wobble(n, 2.0)
    lat[20:] = [2.5] * 20  # checkout's latency moves a little
    data = {
        "inventory": {"process_cpu_seconds_used": cpu},
        "checkout": {'latency_seconds{route="/checkout"}': lat},
        "payment": {"steady_metric": [3.0] * n},  # constant: dropped
    }
    ranking = baro_ranking(samples(data, n), ORIGIN, 20.0)
    assert [r[0] for r in ranking] == ["inventory", "checkout"]
    assert ranking[0][2] == "process_cpu_seconds_used"


def test_baro_judges_a_later_incident_against_the_calm_before_the_first():
    n = 60
    cart = wobble(n, 1.0)
    cart[10:20] = [9.0] * 10  # first incident: cart
    pay = wobble(n, 1.0)
    pay[40:50] = [4.0] * 10  # second incident: payment, smaller than cart's
    data = {"cart": {"m": cart}, "payment": {"m": pay}}
    whole = baro_ranking(samples(data, n), ORIGIN, 10.0)
    assert whole[0][0] == "cart"
    second = baro_ranking(samples(data, n), ORIGIN, 40.0, calm_until_s=10.0, until_s=n)
    assert second[0][0] == "payment"
    first = baro_ranking(samples(data, n), ORIGIN, 10.0, until_s=40.0)
    assert first[0][0] == "cart"


def test_ac_at_k_counts_truths_in_the_first_k():
    rankings = [("a", "b", "c"), ("b", "a", "c"), ("c", "b", "a"), ("x", "y", "z")]
    truths = ["a", "a", "a", "a"]
    assert accuracy_at(rankings, truths, 1) == 0.25
    assert accuracy_at(rankings, truths, 2) == 0.5
    assert accuracy_at(rankings, truths, 3) == 0.75
    assert accuracy_at([], [], 1) == 0.0


def test_scores_of_shopsim_and_the_baseline_on_the_same_incidents():
    incidents = [
        Incident("c1", "payment", 16.0, ("payment", "checkout"), ("checkout", "payment")),
        Incident("c2", "cart", 16.0, ("cart",), ("storefront", "catalog", "checkout", "cart")),
        Incident("c3", "catalog", 16.0, (NOBODY, "catalog"), ("catalog",)),
    ]
    s = scores(incidents)
    assert s["shopsim"] == {"ac@1": 2 / 3, "ac@3": 1.0}
    assert s["baro"] == {"ac@1": 1 / 3, "ac@3": 2 / 3}


def test_incidents_are_fault_starts_grouped_else_the_surge():
    faults = [
        FaultWindow("a", "latency", "payment", 30.0, 75.0),
        FaultWindow("b", "error", "payment", 30.4, 75.0),
        FaultWindow("c", "error", "cart", 90.0, 100.0),
    ]
    assert incident_starts(faults, 5.0) == [30.0, 90.0]
    assert incident_starts([], 16.0) == [16.0]
    assert incident_starts([], None) == []


def test_a_surge_starts_where_the_busiest_stage_ramps_up():
    case = load_scenario(all_cases()["surge-payment"])
    assert surge_start(case.load.stages, 1.0) == 16.0
    assert surge_start(case.load.stages, 2.0) == 8.0


def test_shopsims_answer_is_the_overlapping_windows_culprit_then_its_ranking():
    def window(start: float, end: float, service: str | None) -> dict[str, object]:
        ranking = [{"service": s} for s in ("checkout", "payment", "cart")]
        return {"start_s": start, "end_s": end, "culprit": {"service": service, "ranking": ranking}}

    report = {"windows": [window(18, 30, "cart"), window(55, 70, "payment")], "anomalies": []}
    assert shopsim_answer(report, 14.0, 52.0) == ("cart", "checkout", "payment")
    assert shopsim_answer(report, 52.0, 80.0)[0] == "payment"
    assert shopsim_answer(report, 90.0, 99.0) == (NOBODY,)
    quiet = {"windows": [], "anomalies": [{"service": "notifications"}]}
    assert shopsim_answer(quiet, 14.0, 40.0) == ("notifications",)
    assert shopsim_answer({"windows": [window(18, 30, None)]}, 14.0, 40.0)[0] == NOBODY


def test_the_suite_covers_every_kind_of_fault_and_declares_its_roots():
    cases = all_cases()
    assert len(cases) >= 15 and set(QUICK) <= set(cases)
    types, incidents, surges = set(), 0, 0
    for path in cases.values():
        case = load_scenario(path)
        roots = declared_roots(case.name, case.expectations.culprit)
        starts = incident_starts([FaultWindow("", "", "", f.at_s, None) for f in case.faults], 1)
        assert len(roots) == len(starts), case.name
        types |= {f.spec.type for f in case.faults}
        incidents += len(roots)
        surges += not case.faults
    request = {"latency", "error", "hang", "outage", "reset", "throttle"}
    resource = {"cpu_burn", "memory_leak", "db_lock", "db_slow"}
    logic = {"duplicate_charge", "notification_misfire", "payment_decline"}
    assert request | resource | logic <= types
    assert surges >= 1 and incidents > len(cases)


def test_unknown_cases_are_a_usage_error(capsys):
    with pytest.raises(ValueError, match="nope"):
        pick(["nope"], quick=False)
    assert main(["accuracy", "nope"]) == 2
    assert "CASE: unknown case(s) nope" in capsys.readouterr().err
