"""Degradation windows: every interval where customers were hurt, judged one by one.

A round is degraded for checkout when, over the last five rounds, the failed share of checkouts
reaches max(5%, 5 x the availability budget) or the share answered too slowly reaches
max(10%, 2 x the latency budget), or when checkouts stall: more wait than were answered in the
last five rounds (by Little's law the average wait is then past five rounds; a trickle of
answers says too little for the shares above, and answers that come too late may not come in
the run at all), or when nothing was answered while checkouts waited (a total outage shows no
failures, only silence: three rounds with none answered while three or more wait). Browse
likewise with its own objective. Spans of at
least three degraded rounds are kept; spans closer than the merge gap become one. Business
alerts (wrong mail, double charges, oversold stock) open windows of their own: nothing was
slow, the data path was wrong. Overlapping spans of any kind are one incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopsim.verdict.alerts import Alert
from shopsim.verdict.arith import Values, share_within, window_buckets
from shopsim.verdict.series import Series
from shopsim.verdict.slo import Slo

ROLLING = 5  # rounds
SILENCE = 3  # rounds with no checkout answered while at least WAITING wait: an outage
WAITING = 3
MIN_ROUNDS = 3
MIN_EVENTS = 3  # fewer answered checkouts in the rolling window say nothing either way


@dataclass(frozen=True)
class Span:
    """A run of degraded rounds of one kind (indexes into the series, inclusive)."""

    kind: str  # checkout | browse | business:<alert name>
    first: int
    last: int
    worst: float  # the largest bad share (or alert size) seen in it


@dataclass(frozen=True)
class Window:
    """One incident: degraded from `start_s` to `end_s`, with the kinds of harm seen."""

    start_s: float
    end_s: float
    first: int
    last: int
    kinds: tuple[str, ...]
    worst: dict[str, float]


def _rolling(values: Values, i: int) -> float:
    return sum(v for v in values[max(0, i - ROLLING + 1) : i + 1] if v is not None)


def checkout_degraded(series: Series, slos: Sequence[Slo]) -> list[float | None]:
    """Per round: the size of the checkout degradation (bad share), or None when healthy."""
    avail = next(s for s in slos if s.sli == "checkout_availability")
    latency = next(s for s in slos if s.sli == "checkout_latency")
    bad_bar = max(0.05, 5 * avail.budget)
    slow_bar = max(0.10, 2 * latency.budget)
    out: list[float | None] = []
    for i in range(len(series)):
        if _silent(series, i):
            out.append(1.0)
            for j in range(max(0, i - SILENCE + 1), i):  # the silence began rounds ago
                out[j] = 1.0
            continue
        good, bad = _rolling(series.checkout_good, i), _rolling(series.checkout_bad, i)
        stall = _stalled(series.checkouts_in_flight[i], good + bad) if i >= ROLLING - 1 else None
        if good + bad == 0:
            out.append(stall)
            continue
        share = bad / (good + bad)
        counts = window_buckets(series.checkout_latency.buckets, i, ROLLING)
        within = share_within(counts, latency.threshold_s or 0.0)
        slow = 0.0 if within is None else 1.0 - within
        hurt = good + bad >= MIN_EVENTS and (share >= bad_bar or slow >= slow_bar)
        sizes = ([share, slow] if hurt else []) + ([stall] if stall is not None else [])
        out.append(max(sizes) if sizes else None)
    return out


def _stalled(waiting: float | None, answered: float) -> float | None:
    """The unanswered share when more checkouts wait than the last ROLLING rounds answered."""
    if waiting is None or waiting < WAITING or waiting <= answered:
        return None
    return 1.0 - answered / waiting


def _silent(series: Series, i: int) -> bool:
    """No checkout answered for SILENCE rounds while several wait: a total outage."""
    if i < SILENCE - 1:
        return False
    waiting = series.checkouts_in_flight[i]
    lo = i - SILENCE + 1
    answered = sum(
        (series.checkout_good[j] or 0.0) + (series.checkout_bad[j] or 0.0) for j in range(lo, i + 1)
    )
    return answered == 0 and waiting is not None and waiting >= WAITING


def browse_degraded(series: Series, slos: Sequence[Slo]) -> list[float | None]:
    """Per round: the browse failure share when degraded, else None."""
    avail = next(s for s in slos if s.sli == "browse_availability")
    bar = max(0.05, 5 * avail.budget)
    out: list[float | None] = []
    for i in range(len(series)):
        good, bad = _rolling(series.browse_good, i), _rolling(series.browse_bad, i)
        share = bad / (good + bad) if good + bad >= MIN_EVENTS else 0.0
        out.append(share if share >= bar else None)
    return out


def spans(kind: str, sizes: Sequence[float | None], gap: int) -> list[Span]:
    """Runs of non-None rounds, merged across gaps of at most `gap` rounds."""
    out: list[Span] = []
    first = last = None
    worst = 0.0
    for i, size in enumerate(sizes):
        if size is None:
            continue
        if last is not None and i - last <= gap + 1:
            last, worst = i, max(worst, size)
            continue
        if first is not None and last is not None:
            out.append(Span(kind, first, last, worst))
        first = last = i
        worst = size
    if first is not None and last is not None:
        out.append(Span(kind, first, last, worst))
    return [s for s in out if s.last - s.first + 1 >= MIN_ROUNDS]


def business_spans(series: Series, alerts: Sequence[Alert]) -> list[Span]:
    """A span per business alert firing, from when it fired to when it cleared."""
    out = []
    for alert in alerts:
        if alert.kind != "business":
            continue
        first = _index_at(series.t, alert.fired_at_s)
        end = series.t[-1] if alert.cleared_at_s is None else alert.cleared_at_s
        out.append(Span(f"business:{alert.name}", first, _index_at(series.t, end), alert.peak))
    return out


def _index_at(t: Sequence[float], at: float) -> int:
    return min(range(len(t)), key=lambda i: abs(t[i] - at))


def find_windows(
    series: Series, slos: Sequence[Slo], alerts: Sequence[Alert], gap_s: float
) -> list[Window]:
    """Every incident of the run, in time order."""
    gap = max(1, round(gap_s))
    found = spans("checkout", checkout_degraded(series, slos), gap)
    found += spans("browse", browse_degraded(series, slos), gap)
    found += business_spans(series, alerts)
    found.sort(key=lambda s: s.first)
    groups: list[list[Span]] = []
    for span in found:
        if groups and span.first <= max(s.last for s in groups[-1]) + gap:
            groups[-1].append(span)
        else:
            groups.append([span])
    out = []
    for group in groups:
        first, last = min(s.first for s in group), max(s.last for s in group)
        kinds = tuple(dict.fromkeys(s.kind for s in group))
        worst: dict[str, float] = {}
        for s in group:
            worst[s.kind] = max(worst.get(s.kind, 0.0), s.worst)
        out.append(Window(series.t[first], series.t[last], first, last, kinds, worst))
    return out
