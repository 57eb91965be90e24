"""Stop conditions of a game day: a metric past its bound for long enough ends the run early.

The scenario's `for` spans are the store's time, so they shrink with --time-scale like the rest
of the schedule.
"""

from __future__ import annotations

from typing import Any


class StopWatch:
    """Tracks how long each stop condition has held; says when one has held long enough."""

    def __init__(self, conditions: list[Any], time_scale: float) -> None:
        self.conditions = conditions
        self.scale = time_scale
        self.since: dict[int, float] = {}

    def check(self, values: dict[str, float | None], now: float) -> str | None:
        """The reason to stop now, or None."""
        for i, cond in enumerate(self.conditions):
            value = values.get(cond.metric)
            holds = value is not None and (
                (cond.above is not None and value > cond.above)
                or (cond.below is not None and value < cond.below)
            )
            if not holds:
                self.since.pop(i, None)
                continue
            start = self.since.setdefault(i, now)
            if now - start >= cond.for_s / self.scale:
                bound = f"> {cond.above}" if cond.above is not None else f"< {cond.below}"
                return f"{cond.metric} {bound} for {cond.for_s / self.scale:g}s (now {value:.3g})"
        return None
