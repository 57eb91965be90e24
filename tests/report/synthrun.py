"""A run's verdict and series without a game day: the synthetic store of tests/verdict/synth.py
with payment slowing down under a recorded fault, judged by the real verdict code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopsim.gameday.loader import load_scenario
from shopsim.verdict.report import _verdict
from shopsim.verdict.rundir import FaultWindow, Run
from shopsim.verdict.series import Series
from tests.verdict import synth

SCENARIOS = Path(__file__).parents[2] / "loadtests" / "scenarios"


def incident(path: Path, n: int = 120, *, calm: bool = False) -> tuple[dict[str, Any], Run, Series]:
    """(report, run, series): payment 2 s slower and a third of checkouts failing in 40..70
    (with `calm`, a healthy run with no fault at all)."""
    series = synth.healthy(n)
    bad = range(40, 71)
    if not calm:
        synth.slow_down(series, "payment", bad, 2.0)
        synth.customers_hurt(series, bad, 0.35)
    for i in range(n):  # some business life to plot
        series.business["orders_confirmed"][i] = series.checkout_good[i]
        series.business["orders_failed"][i] = series.checkout_bad[i]
        series.business["revenue_dollars"][i] = 80.0 * (series.checkout_good[i] or 0)
        series.business["gift_purchases"][i] = 1.0 if i % 7 == 0 else 0.0
        series.business["gift_alert_mails"][i] = 1.0 if i % 7 == 0 else 0.0
    run = Run(
        path=path,
        manifest={"time_scale": 1.0, "outcome": {"status": "completed"}},
        scenario=load_scenario(
            SCENARIOS / ("steady-baseline.yaml" if calm else "payment-brownout.yaml")
        ),
        samples=None,  # type: ignore[arg-type]  # the verdict reads the series, not samples
        origin=0.0,
        faults=[] if calm else [FaultWindow("latency-payment", "latency", "payment", 38.0, 70.0)],
    )
    return _verdict(run, series), run, series


COMMUNICATION = {
    "auto_posting": True,
    "first_post_seconds": 4.0,
    "max_update_gap_seconds": 9.0,
    "resolution_states_data_impact": True,
    "posts": [
        {"at_s": 44.0, "status": "investigating", "message": "Checkout is slow for some."},
        {"at_s": 53.0, "status": "identified", "message": "Payments are slow; working on it."},
        {"at_s": 80.0, "status": "resolved", "message": "Resolved. No data was harmed."},
    ],
    "targets": {"first_post_s": 5.0, "update_gap_s": 20.0},
    "passed": True,
}
