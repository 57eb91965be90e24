"""The root cause of one incident window, from metrics alone.

Every signal of every service (see signals.py) is compared before and during the window with
a robust score: z = (upper quartile during - median before) / max(IQR before, a floor). A
service's score is its strongest signal. Victims score little by construction (their extra
time is spent waiting on a dependency, their errors are the dependency's passed up). The call
graph settles what is left: when a dependency of the leading service, direct or further down,
scores at least half as much, the deeper one is the root.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shopsim.verdict.arith import Values, iqr, known, median
from shopsim.verdict.series import Series
from shopsim.verdict.signalkinds import KINDS
from shopsim.verdict.signals import Signal, calls_made, failed_calls, signals_of

MIN_SCORE = 3.0  # below this nothing stands out enough to be named
BASELINE_ROUNDS = 30
MIN_BASELINE = 5
GRAPH_SHARE = 0.5  # a dependency scoring at least this share of its caller's score is the root
SATURATED = 0.9  # busy threads over capacity, counting only time in its own code


@dataclass(frozen=True)
class Evidence:
    """One signal that moved: where, how much, since when."""

    service: str
    signal: str
    label: str
    metric: str
    unit: str
    before: float
    during: float
    z: float
    onset_s: float | None

    def text(self) -> str:
        """'callers wait for it: 0.012s -> 1.8s' and the like."""
        words = KINDS[self.signal].words
        if self.signal == "business":
            words = f"{self.label.replace('_', ' ')}"
        return f"{words}: {_fmt(self.before, self.unit)} -> {_fmt(self.during, self.unit)}"

    def as_dict(self) -> dict[str, object]:
        """For report.json."""
        return {
            "service": self.service,
            "signal": self.signal,
            "label": self.label or None,
            "metric": self.metric,
            "unit": self.unit,
            "before": round(self.before, 6),
            "during": round(self.during, 6),
            "score": round(self.z, 2),
            "onset_s": None if self.onset_s is None else round(self.onset_s, 1),
            "text": self.text(),
        }


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "bytes":
        return f"{value / 2**20:.0f}MiB"
    if unit == "cores":
        return f"{value:.2f} cores"
    return f"{value:.3g}"


@dataclass(frozen=True)
class Candidate:
    """A service and what points at it, strongest first."""

    service: str
    score: float
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def reason(self) -> str:
        """One line: saturated or not, then the strongest signals in words."""
        strong = [e for e in self.evidence if e.z >= max(MIN_SCORE, self.score / 4)][:3]
        parts = [e.text() for e in strong]
        busy = next((e for e in self.evidence if e.signal == "busy_self"), None)
        waited = any(e.signal == "queue_time" for e in strong)
        if busy is not None and busy.during >= SATURATED and waited:
            parts.insert(0, f"saturated: every worker thread busy ({_fmt(busy.during, 'share')})")
        return "; ".join(parts) or "nothing stands out"


@dataclass(frozen=True)
class Culprit:
    """The verdict on one window: the root (or None) and the ranking behind it."""

    service: str | None
    route: str | None
    reason: str
    evidence: tuple[Evidence, ...]
    ranking: tuple[Candidate, ...]
    onset_s: float | None = None  # when the culprit's own signals first moved


def _quartile(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=4, method="inclusive")[2]


def score_signal(
    signal: Signal,
    t: Sequence[float],
    base: Sequence[int],
    during: Sequence[int],
    scan: Sequence[int] = (),
) -> Evidence | None:
    """The evidence a signal gives for the window (None when it cannot say). Its onset is the
    first round of `scan` (the rounds from the baseline's end to the window's) from which the
    signal stays out of its usual range in at least two of three rounds."""
    kind = KINDS[signal.kind]
    before_vals = known(signal.values[i] for i in base)
    during_vals = known(signal.values[i] for i in during)
    if not during_vals:
        return None
    if not before_vals:
        if signal.kind != "silent":
            return None
        before_vals = [0.0]
    mb = median(before_vals) or 0.0
    md = _quartile(during_vals)
    scale = max(iqr(before_vals), kind.floor, kind.relative * abs(mb))
    z = (md - mb) / scale * kind.weight
    onset = _onset(signal.values, t, scan or during, mb + 3 * scale) if z > 0 else None
    return Evidence(
        signal.service, signal.kind, signal.label, kind.metric, kind.unit, mb, md, z, onset
    )


def _onset(values: Values, t: Sequence[float], scan: Sequence[int], bar: float) -> float | None:
    high = [(v is not None and v > bar) for v in (values[i] for i in scan)]
    for k, i in enumerate(scan):
        if high[k] and sum(high[k : k + 3]) >= min(2, len(high) - k):
            return t[i]
    return None


def baseline_rounds(
    n: int, first: int, earlier: Iterable[tuple[int, int]], after: int | None = None
) -> list[int]:
    """The calm rounds to compare a window with: the earlier half of the quiet stretch before
    it (a cause often starts before customers notice, so the rounds just before the window may
    already be touched), between BASELINE_ROUNDS and MIN_BASELINE long; if the stretch is too
    short, the calm rounds after `after` (the window's end) make up the difference."""
    busy = {i for lo, hi in earlier for i in range(lo, hi + 1)}
    start = max([hi + 1 for lo, hi in earlier if hi < first], default=1)
    quiet = [i for i in range(max(1, start), first) if i not in busy]
    take = min(BASELINE_ROUNDS, max(MIN_BASELINE, len(quiet) // 2))
    base = quiet[:take]
    if len(base) >= MIN_BASELINE or after is None:
        return base
    return base + [i for i in range(after + 1, n) if i not in busy][: MIN_BASELINE - len(base)]


def rank(
    series: Series,
    services: Iterable[str],
    base: Sequence[int],
    during: Sequence[int],
    scan: Sequence[int] = (),
) -> list[Candidate]:
    """Every service's candidacy, best first."""
    out = []
    for service in services:
        found = [
            e
            for sig in signals_of(series, service)
            if (e := score_signal(sig, series.t, base, during, scan)) is not None
        ]
        found.sort(key=lambda e: e.z, reverse=True)
        score = found[0].z if found else 0.0
        out.append(Candidate(service, score, tuple(found)))
    out.sort(key=lambda c: c.score, reverse=True)
    return out


def descendants(graph: Mapping[str, Sequence[str]], service: str) -> set[str]:
    """Every service `service` calls, directly or further down."""
    seen: set[str] = set()
    todo = list(graph.get(service, ()))
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(graph.get(dep, ()))
    return seen


def root_of(ranking: Sequence[Candidate], graph: Mapping[str, Sequence[str]]) -> Candidate | None:
    """The leading candidate, moved down the call graph while a dependency scores close."""
    if not ranking or ranking[0].score < MIN_SCORE:
        return None
    best = ranking[0]
    by_name = {c.service: c for c in ranking}
    while True:
        deeper = [
            by_name[d]
            for d in descendants(graph, best.service)
            if d in by_name and by_name[d].score >= max(MIN_SCORE, GRAPH_SHARE * best.score)
        ]
        if not deeper:
            return best
        best = max(deeper, key=lambda c: c.score)


def route_of(
    series: Series, candidate: Candidate, base: Sequence[int], during: Sequence[int]
) -> str | None:
    """Where in the culprit: the route whose requests lost the most time to slowing, or the
    edge its callers saw fail."""
    top = candidate.evidence[0] if candidate.evidence else None
    if top is None:
        return None
    service = candidate.service
    if top.signal in ("queue_time", "edge_failures", "edge_refusals", "silent"):
        callers = [(caller, e) for (caller, callee), e in series.edges.items() if callee == service]
        best, best_change = None, 0.0
        for caller, edge in callers:
            change = _change(failed_calls(edge), calls_made(edge), base, during) + _change(
                edge.attempt_time, edge.attempts, base, during
            )
            if change > best_change:
                best, best_change = f"{caller}->{service}", change
        return best
    svc = series.services[service]
    best_route, best_change = None, 0.0
    for route, histo in svc.routes.items():
        # the extra seconds its requests spent in all: a rare route slowed most (a void
        # after a failure) is not where the service's time went
        served = sum(histo.count[i] or 0.0 for i in during)
        change = _change(histo.sum, histo.count, base, during) * served
        if change > best_change:
            best_route, best_change = route, change
    return best_route


def _change(num: Values, den: Values, base: Sequence[int], during: Sequence[int]) -> float:
    def mean(idx: Sequence[int]) -> float:
        n = sum(num[i] or 0.0 for i in idx)
        d = sum(den[i] or 0.0 for i in idx)
        return n / d if d > 0 else 0.0

    return mean(during) - mean(base)


def localise(
    series: Series,
    graph: Mapping[str, Sequence[str]],
    first: int,
    last: int,
    earlier: Iterable[tuple[int, int]] = (),
) -> Culprit:
    """The culprit of the window spanning rounds first..last."""
    base = baseline_rounds(len(series), first, earlier, after=last)
    # A cause often moves before customers feel it (a slow dependency shows as failures only
    # once its callers' timeouts and retries run out), so "during" reaches back over the rounds
    # between the calm baseline and the window; the upper quartile keeps a short cause visible.
    calm_end = max((i for i in base if i < first), default=first - 1)
    during = list(range(calm_end + 1, last + 1))
    ranking = rank(series, series.services, base, during, during)
    root = root_of(ranking, graph)
    if root is None:
        return Culprit(
            None, None, "no service stands out from its usual behaviour", (), tuple(ranking)
        )
    route = route_of(series, root, base, during)
    strong = [e.onset_s for e in root.evidence if e.z >= MIN_SCORE and e.onset_s is not None]
    onset = min(strong, default=None)
    return Culprit(root.service, route, root.reason(), root.evidence[:6], tuple(ranking), onset)
