"""Did checkout come back once the trigger was gone, and if not, what kept it down?

The trigger is what the rehearsal did to the store: its faults (the timeline may be read here,
after the fact, to time recovery) or, with no fault, a surge of load (the load shape's target
above half again its level before). Recovered = checkout healthy (not degraded, see windows.py)
for a hold period, measured from the trigger's end. Metastable (HotOS'21, OSDI'22): after the
trigger is gone and the offered load is back to its level before the trigger, checkout goodput
stays below half of what it was, to the end of the run: something inside the store sustains
the failure. The evidence says what: retries per call, a queue at the culprit, callers giving
up on answers that come too late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shopsim.verdict.arith import Values, known
from shopsim.verdict.rundir import FaultWindow
from shopsim.verdict.series import Series

SURGE_FACTOR = 1.5  # the load target this many times its earlier level is a surge
GOODPUT_SHARE = 0.5
OFFERED_SHARE = 0.8
WARMUP_ROUNDS = 3


@dataclass(frozen=True)
class Trigger:
    """When the stress began and ended, in run seconds, and what it was."""

    kind: str  # fault | surge | none
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Recovery:
    """How the store came out of the trigger."""

    trigger: Trigger | None
    recovered_at_s: float | None
    recovery_seconds: float | None
    metastable: bool
    goodput_before: float | None  # confirmed checkouts per second before the trigger
    goodput_after: float | None  # ... after it ended (past a grace period)
    offered_before: float | None  # arrivals per second
    offered_after: float | None
    evidence: dict[str, float] = field(default_factory=dict)


def _rate(values: Values, t: Sequence[float], idx: Sequence[int]) -> float | None:
    vals = [values[i] for i in idx]
    if not idx or all(v is None for v in vals):
        return None
    span = t[idx[-1]] - t[idx[0]] + (t[1] - t[0] if len(t) > 1 else 1.0)
    return sum(known(vals)) / max(span, 1e-9)


def _loaded_until(series: Series) -> int:
    """The last round of the load schedule (target above 0): the rounds after it, while the
    load generator stops and the store drains, say nothing of recovery or of the load offered
    (a run without a known target is judged to its end)."""
    loaded = [i for i, v in enumerate(series.target) if v is not None and v > 0]
    return loaded[-1] if loaded else len(series.t) - 1


def find_trigger(series: Series, faults: Sequence[FaultWindow]) -> Trigger | None:
    """The run's trigger: the span of its faults, else its surge, else None."""
    if faults:
        end = max((f.end_s if f.end_s is not None else series.t[-1]) for f in faults)
        return Trigger("fault", min(f.start_s for f in faults), end)
    target = series.target
    first_known = next((i for i, v in enumerate(target) if v is not None and v > 0), None)
    if first_known is None:
        return None
    base = target[first_known] or 0.0
    surge = [i for i, v in enumerate(target) if v is not None and v > SURGE_FACTOR * base]
    if not surge:
        return None
    start = surge[0]
    ends = [i for i in range(start, len(target)) if (target[i] or 0.0) <= SURGE_FACTOR * base]
    end = ends[0] if ends else len(target) - 1
    return Trigger("surge", series.t[start], series.t[end])


def judge_recovery(
    series: Series,
    degraded: Sequence[float | None],
    trigger: Trigger | None,
    *,
    hold_s: float,
    grace_s: float,
    culprit: str | None = None,
) -> Recovery:
    """Recovery time and the metastability decision for one run."""
    if trigger is None:
        return Recovery(None, None, None, False, None, None, None, None)
    t = series.t
    before = [i for i in range(WARMUP_ROUNDS, len(t)) if t[i] < trigger.start_s]
    goodput_before = _rate(series.checkout_good, t, before)
    offered_before = _rate(series.arrivals, t, before)
    recovered_at = None
    after_end = [i for i in range(_loaded_until(series) + 1) if t[i] >= trigger.end_s]
    for k, i in enumerate(after_end):
        hold = [j for j in after_end[k:] if t[j] < t[i] + hold_s]
        long_enough = t[after_end[-1]] - t[i] >= min(hold_s, t[-1] - trigger.end_s) - 1e-9
        if long_enough and all(degraded[j] is None for j in hold):
            recovered_at = t[i]
            break
    late = [i for i in after_end if t[i] >= trigger.end_s + grace_s]
    goodput_after = _rate(series.checkout_good, t, late)
    offered_after = _rate(series.arrivals, t, late)
    metastable = (
        recovered_at is None
        and len(late) >= 5
        and goodput_before is not None
        and goodput_before > 0
        and goodput_after is not None
        and goodput_after < GOODPUT_SHARE * goodput_before
        and offered_before is not None
        and offered_after is not None
        and offered_after >= OFFERED_SHARE * offered_before
    )
    evidence = _sustaining(series, late, culprit) if metastable else {}
    return Recovery(
        trigger,
        recovered_at,
        None if recovered_at is None else max(0.0, recovered_at - trigger.end_s),
        metastable,
        goodput_before,
        goodput_after,
        offered_before,
        offered_after,
        evidence,
    )


def _sustaining(series: Series, idx: Sequence[int], culprit: str | None) -> dict[str, float]:
    """What keeps it down, measured after the trigger: on the edges into the culprit."""
    if culprit is None or culprit not in series.services:
        return {}
    edges = [e for (_, callee), e in series.edges.items() if callee == culprit]
    attempts = sum(sum(known(e.attempts[i] for i in idx)) for e in edges)
    retries = sum(sum(known(e.retries[i] for i in idx)) for e in edges)
    timeouts = sum(sum(known(e.outcomes["timeout"][i] for i in idx)) for e in edges)
    calls = attempts - retries
    span = max(1e-9, series.t[idx[-1]] - series.t[idx[0]] + 1.0) if idx else 1.0
    queue = known(series.services[culprit].in_flight[i] for i in idx)
    slow = series.services[culprit].latency.buckets
    over = 0.0
    if slow:
        bounds = sorted(b for b in slow if b < float("inf"))
        cut = max((b for b in bounds if b <= 2.5), default=None)
        if cut is not None:
            total = sum(known(slow[float("inf")][i] for i in idx))
            under = sum(known(slow[cut][i] for i in idx))
            over = (total - under) / span
    return {
        "attempts_per_call": round(attempts / calls, 2) if calls > 0 else 0.0,
        "retries_per_s": round(retries / span, 2),
        "caller_timeouts_per_s": round(timeouts / span, 2),
        "culprit_in_flight": round(sorted(queue)[len(queue) // 2], 1) if queue else 0.0,
        "answers_slower_than_2_5s_per_s": round(over, 2),
    }
