"""The live view: one line a second while a game day runs.

    t=   42s  stage 2/4   arrivals  29.8/s  checkouts  5.2/s ok  71.0% in flight   12  p95  2.41s
      dog  3.0/s  faults latency->payment  ! load CPU 93%: latencies not trustworthy

(one line, wrapped here). Checkouts are those answered per second over the last 5 s, with the
share that went well, and those sent but not answered yet. A total outage reads as such:
``checkouts  0.0/s`` beside a growing ``in flight``, and a warning; ``-`` only ever means that
there is nothing to compute a number from. A plain line per second (no cursor tricks) reads the
same in a terminal, a CI log and a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shopsim.gameday.derive import WINDOW, is_load_source

CPU_WARN = 90.0  # Locust's own threshold for an overloaded load generator
QUIET_START_S = 3  # sources may not answer yet in the first seconds


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    if value is None:
        width = len(f"{0:{spec}}{unit}")
        return "-".center(width)
    return f"{value:{spec}}{unit}"


def worth_warning(failed: Iterable[str], load_expected: bool) -> list[str]:
    """The sources whose silence is news: the load's processes only while they should run
    (once the schedule is over they exit one by one, which is how a run ends)."""
    return [s for s in failed if load_expected or not is_load_source(s)]


def render(
    elapsed: float,
    phase: str,
    values: dict[str, float | None],
    faults: list[str],
    unreachable: list[str],
    *,
    open_model: bool = True,
) -> str:
    """This second's line, from the derived values (see derive.DERIVED)."""
    if open_model:
        load = f"arrivals {_fmt(values.get('arrivals_per_s'), '5.1f', '/s')}"
    else:
        load = f"users {_fmt(values.get('load_target'), '4.0f')}"
    error = values.get("checkout_error_ratio")
    ok = None if error is None else 100.0 * (1.0 - error)
    done = values.get("checkouts_per_s")
    waiting = values.get("checkouts_in_flight")
    line = (
        f"t={elapsed:5.0f}s  {phase:<11} {load}  "
        f"checkouts {_fmt(done, '4.1f', '/s')} ok {_fmt(ok, '5.1f', '%')} "
        f"in flight {_fmt(waiting, '4.0f')}  "
        f"p95 {_fmt(values.get('checkout_p95_seconds'), '5.2f', 's')}  "
        f"dog {_fmt(values.get('error_pages_per_s'), '4.1f', '/s')}"
    )
    if faults:
        line += "  faults " + ",".join(faults)
    warnings = []
    if done == 0 and waiting and elapsed >= WINDOW:  # the first ones need a few seconds
        warnings.append(f"no checkout answered in {WINDOW}s, {waiting:.0f} waiting")
    cpu = values.get("load_cpu_percent")
    if cpu is not None and cpu > CPU_WARN:
        warnings.append(f"load CPU {cpu:.0f}%: latencies not trustworthy")
    dropped = values.get("dropped_arrivals_per_s")
    if dropped:
        warnings.append(f"dropping {dropped:.1f} arrivals/s")
    if unreachable and elapsed > QUIET_START_S:
        warnings.append("no metrics from " + ",".join(unreachable))
    if warnings:
        line += "  ! " + "; ".join(warnings)
    return line


class LiveView:
    """Formats the derived numbers of each second for people."""

    def __init__(self, echo: Callable[[str], None], scenario: Any, time_scale: float) -> None:
        self.echo = echo
        self.stages = [(s.duration_s / time_scale, s) for s in scenario.load.stages]
        self.open_model = scenario.load.model == "open"

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
        """Print this second's line."""
        self.echo(render(elapsed, phase, values, faults, unreachable, open_model=self.open_model))
