"""The live view: one line a second while a game day runs.

    t=  42s  surge 2/4   arrivals 29.8/s  checkout ok  71.0%  p95 2.41s  dog 3.0/s
             faults latency->payment   ! load CPU 93%: latencies not trustworthy

A plain line per second (no cursor tricks) reads the same in a terminal, a CI log and a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CPU_WARN = 90.0  # Locust's own threshold for an overloaded load generator


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    return "   -  " if value is None else f"{value:{spec}}{unit}"


class LiveView:
    """Formats the derived numbers of each second for people."""

    def __init__(self, echo: Callable[[str], None], scenario: Any, time_scale: float) -> None:
        self.echo = echo
        self.stages = [(s.duration_s / time_scale, s) for s in scenario.load.stages]
        self.unit = "/s" if scenario.load.model == "open" else " users"
        self.warned: set[str] = set()

    def phase(self, elapsed: float) -> str:
        """Which load stage the run is in: 'stage 2/4'."""
        end = 0.0
        for i, (seconds, _) in enumerate(self.stages, start=1):
            end += seconds
            if elapsed < end:
                return f"stage {i}/{len(self.stages)}"
        return "ending"

    def show(
        self,
        elapsed: float,
        phase: str,
        values: dict[str, float | None],
        faults: list[str],
        unreachable: list[str],
    ) -> None:
        """Print this second's line, and any new warning."""
        error = values.get("checkout_error_ratio")
        ok = None if error is None else 100.0 * (1.0 - error)
        if self.unit == "/s":
            load = f"arrivals {_fmt(values.get('arrivals_per_s'), '5.1f', '/s')}"
        else:
            load = f"users {_fmt(values.get('load_target'), '4.0f')}"
        line = (
            f"t={elapsed:5.0f}s  {phase:<11} {load}  "
            f"checkout ok {_fmt(ok, '5.1f', '%')}  "
            f"p95 {_fmt(values.get('checkout_p95_seconds'), '5.2f', 's')}  "
            f"dog {_fmt(values.get('error_pages_per_s'), '4.1f', '/s')}"
        )
        if faults:
            line += "  faults " + ",".join(faults)
        warnings = []
        cpu = values.get("load_cpu_percent")
        if cpu is not None and cpu > CPU_WARN:
            warnings.append(f"load CPU {cpu:.0f}%: latencies not trustworthy")
        dropped = values.get("dropped_arrivals_per_s")
        if dropped:
            warnings.append(f"dropping {dropped:.1f} arrivals/s")
        if unreachable and elapsed > 3:
            warnings.append("no metrics from " + ",".join(unreachable))
        if warnings:
            line += "  ! " + "; ".join(warnings)
        self.echo(line)
