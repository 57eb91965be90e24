"""Arithmetic on per-round value lists, where None means "not known this round".

Counters become increases (a drop is a restart: the increase is the new value; a series seen for
the first time counts from zero). Sums, ratios, rolling windows, robust statistics and
histogram quantiles all keep None apart from 0: a round nobody could measure is not a quiet one.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence

Values = list[float | None]


def _known(value: float) -> bool:
    return not math.isnan(value)


def increases(values: Sequence[float]) -> Values:
    """Per-round increase of a counter sampled once a round (NaN where absent)."""
    out: Values = []
    seen = False
    prev = math.nan
    for value in values:
        if not _known(value):
            out.append(None)
            continue
        if _known(prev):
            out.append(value - prev if value >= prev else value)
        else:
            out.append(None if seen else value)  # first sight: counted from zero
        seen = True
        prev = value
    if out:
        out[0] = None  # nothing before the first round to compare with
    return out


def gauge(values: Sequence[float]) -> Values:
    """A gauge's values, None where absent."""
    return [v if _known(v) else None for v in values]


def add(*lists: Values) -> Values:
    """Element-wise sum; None only where every list is None."""
    if not lists:
        return []
    out: Values = []
    for items in zip(*lists, strict=True):
        known = [v for v in items if v is not None]
        out.append(sum(known) if known else None)
    return out


def combine(fn: Callable[..., float | None], *lists: Values) -> Values:
    """Element-wise `fn` of the lists' values, None where any input is None."""
    out: Values = []
    for items in zip(*lists, strict=True):
        out.append(None if any(v is None for v in items) else fn(*items))
    return out


def zeros(n: int) -> Values:
    """A list of n zeros."""
    return [0.0] * n


def rolling_sum(values: Values, width: int) -> Values:
    """Sum over the last `width` rounds (None when all of them are None)."""
    out: Values = []
    for i in range(len(values)):
        window = [v for v in values[max(0, i - width + 1) : i + 1] if v is not None]
        out.append(sum(window) if window else None)
    return out


def ratio(num: Values, den: Values, *, minimum: float = 1e-9) -> Values:
    """num / den per round; None where den is unknown or below `minimum`."""
    return [
        None if n is None or d is None or d < minimum else n / d
        for n, d in zip(num, den, strict=True)
    ]


def known(values: Iterable[float | None]) -> list[float]:
    """The known values."""
    return [v for v in values if v is not None]


def median(values: Iterable[float | None]) -> float | None:
    """Median of the known values (None if none)."""
    vals = known(values)
    return statistics.median(vals) if vals else None


def iqr(values: Iterable[float | None]) -> float:
    """Interquartile range of the known values (0 with fewer than two)."""
    vals = sorted(known(values))
    if len(vals) < 2:
        return 0.0
    q = statistics.quantiles(vals, n=4, method="inclusive")
    return q[2] - q[0]


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus-style histogram_quantile over cumulative bucket counts (le -> count)."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    prev_bound, prev_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            span = count - prev_count
            return prev_bound + (bound - prev_bound) * ((rank - prev_count) / span if span else 1)
        prev_bound, prev_count = bound, count
    return prev_bound


def window_buckets(buckets: dict[float, Values], i: int, width: int) -> dict[float, float]:
    """Cumulative bucket counts over rounds i-width+1..i."""
    lo = max(0, i - width + 1)
    return {
        le: sum(v for v in values[lo : i + 1] if v is not None) for le, values in buckets.items()
    }


def share_within(buckets: dict[float, float], threshold: float) -> float | None:
    """Share of observations at or under `threshold` (a bucket bound), None if none."""
    total = buckets.get(math.inf)
    if not total:
        return None
    under = max((c for le, c in buckets.items() if le <= threshold + 1e-12), default=0.0)
    return under / total
