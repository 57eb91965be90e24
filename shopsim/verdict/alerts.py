"""Evaluating the burn-rate and business alerts of `slo.py` over a run, second by second, the
way Prometheus would have: an alert fires when its condition has held for its `for` time and
clears as soon as it stops holding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shopsim.verdict.arith import Values, share_within, window_buckets
from shopsim.verdict.series import Series
from shopsim.verdict.slo import (
    BUSINESS_ALERTS,
    MIN_WINDOW_S,
    TIERS,
    BusinessAlert,
    Slo,
)


@dataclass(frozen=True)
class Alert:
    """One firing of one alert, in run seconds."""

    name: str
    kind: str  # burn_rate | business
    severity: str  # page | ticket
    fired_at_s: float
    cleared_at_s: float | None  # None: still firing at the end of the run
    peak: float  # highest burn rate (or numerator/denominator ratio) while firing
    slo: str | None = None
    owner: str | None = None  # business alerts: the service whose code decides it
    summary: str = ""


def sli_events(series: Series, slo: Slo) -> tuple[Values, Values]:
    """(good, bad) events per round for an SLO's SLI."""
    if slo.sli == "checkout_availability":
        return series.checkout_good, series.checkout_bad
    if slo.sli == "browse_availability":
        return series.browse_good, series.browse_bad
    histo = series.checkout_latency
    good: Values = []
    bad: Values = []
    for i in range(len(series)):
        counts = window_buckets(histo.buckets, i, 1)
        within = share_within(counts, slo.threshold_s or 0.0)
        total = max(counts.values(), default=0.0)
        if within is None:
            good.append(None if all(v[i] is None for v in histo.buckets.values()) else 0.0)
            bad.append(good[-1])
        else:
            good.append(within * total)
            bad.append(total - within * total)
    return good, bad


def windowed(t: Sequence[float], values: Values, window_s: float) -> Values:
    """Sum of values over the trailing window (t - window, t] at each round."""
    out: Values = []
    lo = 0
    total = 0.0
    count = 0
    for i, now in enumerate(t):
        v = values[i]
        if v is not None:
            total += v
            count += 1
        while t[lo] <= now - window_s:
            old = values[lo]
            if old is not None:
                total -= old
                count -= 1
            lo += 1
        out.append(total if count else None)
    return out


def burn_rate(series: Series, slo: Slo, window_s: float) -> Values:
    """Bad share over the trailing window divided by the error budget, per round."""
    good, bad = sli_events(series, slo)
    g, b = windowed(series.t, good, window_s), windowed(series.t, bad, window_s)
    out: Values = []
    for gv, bv in zip(g, b, strict=True):
        total = (gv or 0.0) + (bv or 0.0)
        out.append(None if total <= 0 else (bv or 0.0) / total / slo.budget)
    return out


def firings(
    t: Sequence[float], holds: Sequence[bool], size: Sequence[float], for_s: float
) -> list[tuple[float, float | None, float]]:
    """(fired_at, cleared_at, peak) for every span where `holds` stays true for `for_s`."""
    out: list[tuple[float, float | None, float]] = []
    since: float | None = None
    fired: float | None = None
    peak = 0.0
    for now, ok, value in zip(t, holds, size, strict=True):
        if ok:
            since = now if since is None else since
            if fired is None and now - since >= for_s:
                fired, peak = now, value
            if fired is not None:
                peak = max(peak, value)
        else:
            if fired is not None:
                out.append((fired, now, peak))
            since = fired = None
    if fired is not None:
        out.append((fired, None, peak))
    return out


def burn_alerts(series: Series, slos: Sequence[Slo], factor: float) -> list[Alert]:
    """Every multiwindow burn-rate alert firing, for every SLO and tier."""
    out = []
    for slo in slos:
        for tier in TIERS:
            long_s, short_s, for_s = tier.windows(factor)
            long_b = burn_rate(series, slo, long_s)
            short_b = burn_rate(series, slo, short_s)
            holds = [
                lb is not None and sb is not None and lb > tier.burn_rate and sb > tier.burn_rate
                for lb, sb in zip(long_b, short_b, strict=True)
            ]
            size = [min(lb or 0.0, sb or 0.0) for lb, sb in zip(long_b, short_b, strict=True)]
            for fired, cleared, peak in firings(series.t, holds, size, for_s):
                name = f"{slo.name}_{tier.name}"
                out.append(Alert(name, "burn_rate", tier.severity, fired, cleared, peak, slo.name))
    return out


def _business_condition(
    series: Series, alert: BusinessAlert, factor: float
) -> tuple[list[bool], list[float]]:
    num = series.business.get(alert.numerator, [None] * len(series))
    if alert.denominator is None:  # a level
        bound = alert.floor / factor if alert.level_scaled else alert.floor
        bound = max(bound, MIN_WINDOW_S) if alert.level_scaled else bound
        return [v is not None and v > bound for v in num], [v or 0.0 for v in num]
    window = max(MIN_WINDOW_S, alert.window_s / factor)
    n = windowed(series.t, num, window)
    d = windowed(series.t, series.business.get(alert.denominator, [None] * len(series)), window)
    holds = [
        nv is not None and nv > alert.factor * (dv or 0.0) + alert.floor
        for nv, dv in zip(n, d, strict=True)
    ]
    size = [(nv or 0.0) / max(dv or 0.0, 1.0) for nv, dv in zip(n, d, strict=True)]
    return holds, size


def business_alerts(series: Series, factor: float) -> list[Alert]:
    """Every business alert firing."""
    out = []
    for alert in BUSINESS_ALERTS:
        holds, size = _business_condition(series, alert, factor)
        for fired, cleared, peak in firings(series.t, holds, size, 0.0):
            out.append(
                Alert(
                    alert.name,
                    "business",
                    alert.severity,
                    fired,
                    cleared,
                    peak,
                    owner=alert.owner,
                    summary=alert.summary,
                )
            )
    return out


def evaluate(series: Series, slos: Sequence[Slo], factor: float) -> list[Alert]:
    """Every alert firing of the run, in order of firing."""
    found = burn_alerts(series, slos, factor) + business_alerts(series, factor)
    return sorted(found, key=lambda a: (a.fired_at_s, a.name))


def detection(alerts: list[Alert], onset_s: float, end_s: float) -> tuple[Alert | None, float]:
    """The alert that told of a window and seconds from its onset to it: the first to fire
    between the onset (less one scrape) and the window's end, else one already firing at the
    onset (an alert of the same trouble seen earlier, not cleared yet: detected at once)."""
    fired = [a for a in alerts if onset_s - 1.0 <= a.fired_at_s <= end_s]
    if fired:
        first = min(fired, key=lambda a: a.fired_at_s)
        return first, max(0.0, first.fired_at_s - onset_s)
    firing = [
        a
        for a in alerts
        if a.fired_at_s < onset_s and (a.cleared_at_s is None or a.cleared_at_s >= onset_s)
    ]
    return min(firing, key=lambda a: a.fired_at_s, default=None), 0.0
