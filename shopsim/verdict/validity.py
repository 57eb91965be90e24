"""Was the load generator, not the store, the limit? Then the run's latencies measure the
harness, and the run is invalid.

Three ways it shows (Locust itself warns above 90% CPU; k6 counts dropped iterations; wrk2
corrects for late requests): the load process ran its CPU flat out, it dropped arrivals
because too many were in flight, or it started many arrivals late.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopsim.verdict.arith import known
from shopsim.verdict.series import Series

CPU_PERCENT = 90.0
CPU_ROUNDS_SHARE = 0.10  # of the rounds
DROPPED_SHARE = 0.01  # of the arrivals
# Latencies are timed from the intended start, so an arrival 50 ms late adds 50 ms to what the
# store is charged with. A few such on a shared machine are noise next to second-scale SLO
# thresholds; a tenth of the schedule slipping means the harness was the limit.
LATE_SHARE = 0.10


@dataclass(frozen=True)
class Validity:
    """The run's validity and the figures behind it."""

    valid: bool
    reasons: tuple[str, ...]
    figures: dict[str, float] = field(default_factory=dict)


def judge_validity(series: Series) -> Validity:
    """Invalid when the load generator saturated, dropped arrivals or started many late."""
    cpu = known(series.load_cpu)
    hot = sum(1 for c in cpu if c > CPU_PERCENT)
    arrivals = sum(known(series.arrivals))
    dropped = sum(known(series.dropped))
    late = sum(known(series.late))
    figures = {
        "load_cpu_max_percent": round(max(cpu, default=0.0), 1),
        "load_cpu_hot_rounds": float(hot),
        "arrivals": arrivals,
        "dropped_arrivals": dropped,
        "late_arrivals": late,
    }
    reasons = []
    if cpu and hot / len(cpu) > CPU_ROUNDS_SHARE:
        reasons.append(
            f"the load generator's CPU was above {CPU_PERCENT:g}% in {hot} of {len(cpu)} "
            "seconds: its latencies measure itself"
        )
    if arrivals and dropped / arrivals > DROPPED_SHARE:
        reasons.append(
            f"{dropped:.0f} of {arrivals:.0f} arrivals were dropped (too many in flight): "
            "the offered load was not what the scenario asked"
        )
    if arrivals and late / arrivals > LATE_SHARE:
        reasons.append(
            f"{late:.0f} of {arrivals:.0f} arrivals started late: the load generator could not "
            "keep the schedule"
        )
    return Validity(not reasons, tuple(reasons), figures)
