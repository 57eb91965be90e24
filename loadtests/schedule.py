"""Stage tables and their arithmetic: the target at any moment, and when each arrival is due.

A stage table is a list of consecutive stages. A stage either jumps to its target at its start
or, with ``ramp``, moves linearly from the previous stage's target (0 before the first stage) to
its own. For the closed model the target is a number of users; for the open model it is a rate
in arrivals per second, and arrival number n (counting from 0) is due at the moment the
integral of the rate reaches n: at a constant rate r that is every 1/r seconds, and across a
ramp the spacing shrinks or grows with the rate.

Pure Python with no Locust import, so the suite can check the numbers directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: Float slack when comparing an arrival count with the integral at a stage's end.
EPSILON = 1e-9


@dataclass(frozen=True)
class Stage:
    """One stage: how long it lasts, its target, and whether it ramps into it."""

    duration_s: float
    target: float
    ramp: bool = False


def total_s(stages: Sequence[Stage]) -> float:
    """How long the whole table lasts."""
    return sum(stage.duration_s for stage in stages)


def _segments(stages: Sequence[Stage]) -> Iterator[tuple[float, Stage, float, float]]:
    """(start, stage, value at its start, value at its end) for each stage."""
    start, previous = 0.0, 0.0
    for stage in stages:
        first = previous if stage.ramp else stage.target
        yield start, stage, first, stage.target
        start += stage.duration_s
        previous = stage.target


def stage_index_at(stages: Sequence[Stage], t: float) -> int | None:
    """The index of the stage running at `t` seconds, or None once the table has ended."""
    for index, (start, stage, _, _) in enumerate(_segments(stages)):
        if t < start + stage.duration_s:
            return index if t >= 0 else 0
    return None


def target_at(stages: Sequence[Stage], t: float) -> float | None:
    """The target at `t` seconds (interpolated along a ramp), or None once the table has ended."""
    for start, stage, first, last in _segments(stages):
        if t < start + stage.duration_s:
            x = min(max(t - start, 0.0), stage.duration_s)
            return first + (last - first) * x / stage.duration_s
    return None


def expected_arrivals(stages: Sequence[Stage], t: float | None = None) -> float:
    """The integral of the rate from 0 to `t` (to the end when None): arrivals due by then."""
    done = 0.0
    for start, stage, first, last in _segments(stages):
        x = stage.duration_s if t is None else min(max(t - start, 0.0), stage.duration_s)
        done += first * x + (last - first) * x * x / (2 * stage.duration_s)
    return done


def arrival_times(
    stages: Sequence[Stage], *, first: int = 0, step: int = 1
) -> Iterator[tuple[int, float]]:
    """(n, seconds from the start) for arrivals n = first, first + step, ... until the end.

    `step` lets N load processes share one schedule: process k of N takes first=k, step=N, so
    together they make exactly the arrivals of one process, interleaved.
    """
    if step < 1 or first < 0:
        raise ValueError("arrival_times needs first >= 0 and step >= 1")
    n = first
    done = 0.0
    for start, stage, r0, r1 in _segments(stages):
        d = stage.duration_s
        area = (r0 + r1) / 2 * d
        a = (r1 - r0) / (2 * d)  # N(start + x) = done + r0 x + a x^2
        while n < done + area - EPSILON:
            delta = n - done
            root = math.sqrt(max(r0 * r0 + 4 * a * delta, 0.0))
            # The stable form of the quadratic's root; it is also right when a is 0 or negative.
            x = 2 * delta / (r0 + root) if r0 + root > 0 else 0.0
            yield n, start + min(max(x, 0.0), d)
            n += step
        done += area
