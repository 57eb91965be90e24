"""The search, pure: a judge function says how one rate went; this decides the next rate.

Ramp: multiply the start rate by `factor` until a step fails (an SLO broke, or the load
generator was the limit so the step proves nothing) or `max_rate` is reached. Bisect: between
the highest good and the lowest bad rate, try the geometric middle until bad / good <= 1 +
tolerance. The answer is the highest good rate. When the very first step fails the search
halves downwards until one holds (or `min_rate` is reached without one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One steady run at one rate, as the judge saw it."""

    rate: float
    held: bool  # every SLO held
    valid: bool  # the load generator was not the limit
    checkout_success: float | None = None
    p95_s: float | None = None
    culprit: str | None = None  # what saturated first, when an SLO broke
    breached: tuple[str, ...] = ()
    note: str = ""
    phase: str = "ramp"  # ramp | down | bisect
    run_dir: str | None = None

    @property
    def good(self) -> bool:
        """Counts as a rate the store took: the SLOs held and the measurement was valid."""
        return self.held and self.valid

    def to_json(self) -> dict[str, Any]:
        """The step as plain data."""
        data = dict(vars(self))
        data["breached"] = list(self.breached)
        data["good"] = self.good
        return data


@dataclass
class Found:
    """The outcome of a search."""

    rate: float | None  # the highest good rate; None when no rate held
    first_bad: Step | None  # the lowest failing step: what saturated first
    steps: list[Step] = field(default_factory=list)
    reached_max: bool = False  # no rate up to max_rate failed: the answer is a lower bound

    @property
    def valid(self) -> bool:
        """False when the step that bounds the answer was limited by the load generator."""
        return self.first_bad is None or self.first_bad.valid


Judge = Callable[[float, str], Step]


def _rate(value: float) -> float:
    return round(value, 2)


def search(
    judge: Judge,
    start: float,
    *,
    tolerance: float,
    factor: float = 2.0,
    max_rate: float = 1000.0,
    min_rate: float = 0.25,
    max_steps: int = 20,
) -> Found:
    """Ramp, then bisect; `judge(rate, phase)` runs one step. Never more than max_steps."""
    if not (start > 0 and tolerance > 0 and factor > 1 and max_rate >= start):
        raise ValueError("search: need start > 0, tolerance > 0, factor > 1, max_rate >= start")
    found = Found(None, None)
    good: float | None = None
    bad: Step | None = None

    def run(rate: float, phase: str) -> Step:
        step = judge(_rate(rate), phase)
        found.steps.append(step)
        return step

    rate = start
    while len(found.steps) < max_steps:  # the ramp up (or down, when the start fails)
        phase = "ramp" if good is not None or bad is None else "down"
        step = run(rate, phase)
        if step.good:
            good = step.rate
            if bad is not None:
                break  # came down to a good rate
            if rate >= max_rate:
                found.reached_max = True
                break
            rate = min(rate * factor, max_rate)
        else:
            bad = step
            if good is not None:
                break
            if rate / factor < min_rate:
                break  # nothing down to min_rate held
            rate = rate / factor
    while good is not None and bad is not None and len(found.steps) < max_steps:
        if bad.rate / good <= 1 + tolerance:
            break
        step = run(math.sqrt(good * bad.rate), "bisect")
        if step.good:
            good = step.rate
        else:
            bad = step
    found.rate, found.first_bad = good, bad
    return found
