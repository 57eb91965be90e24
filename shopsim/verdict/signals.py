"""Per-round signals that point at one service as the origin of trouble.

Each signal is computed so that a *victim* does not carry it: a caller of a slow dependency
spends its extra time waiting on the call (not in its own code), passes the dependency's error
up (cause "dependency", not "own"), and its busy threads are busy waiting. So:

- self_time: a service's mean server time minus its mean time in calls to dependencies;
- queue_time: how much longer its callers wait for an answer than it spends serving one
  (requests queue for a free thread; or the network/transport between them is slow);
- own_errors: the share of its answers that are 5xx it caused itself (or refused at capacity);
- edge_failures: the share of its callers' calls that time out, are refused or get 5xx, or are
  cut off by the caller's open circuit breaker (opened by those failures: a round in which the
  breaker sends nothing is a round of failed calls, not one without evidence); 5xx and cut-off
  calls count in the share of its 5xx it caused itself, not passed up from a dependency;
- edge_refusals: the share of its callers' attempts it answered 4xx (declines and the like);
- busy_self: busy worker threads over capacity, times the share of time spent in its own code;
- cpu_cores, memory_bytes: the process's CPU use and resident memory;
- silent: 1 in rounds where the service stopped answering its metrics scrape;
- business owners' ratios (see slo.BUSINESS_ALERTS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shopsim.verdict.arith import Values, add
from shopsim.verdict.series import EdgeSeries, Series, ServiceSeries
from shopsim.verdict.slo import BUSINESS_ALERTS

NO_ANSWER = ("timeout", "connect_error")  # failed calls the callee never answered


@dataclass(frozen=True)
class Signal:
    """One per-round signal of one service."""

    service: str
    kind: str
    label: str  # which edge, route or business alert, when it matters
    values: Values


def _per(values: Values, counts: Values) -> Values:
    return [
        None if v is None or c is None or c <= 0 else v / c
        for v, c in zip(values, counts, strict=True)
    ]


def _minus(a: Values, b: Values, clamp: bool = True) -> Values:
    out: Values = []
    for x, y in zip(a, b, strict=True):
        if x is None:
            out.append(None)
        else:
            d = x - (y or 0.0)
            out.append(max(0.0, d) if clamp else d)
    return out


def server_time(svc: ServiceSeries) -> Values:
    """Mean server time of its customer-facing requests, per round."""
    return _per(svc.latency.sum, svc.latency.count)


def self_time(svc: ServiceSeries) -> Values:
    """Mean time per request spent in its own code."""
    return _per(_minus(svc.latency.sum, svc.call_time), svc.latency.count)


def self_share(svc: ServiceSeries) -> Values:
    """Share of its server time spent in its own code (1 when it calls nobody)."""
    out: Values = []
    for total, calls in zip(svc.latency.sum, svc.call_time, strict=True):
        if total is None or total <= 0:
            out.append(None)
        else:
            out.append(min(1.0, max(0.0, 1.0 - (calls or 0.0) / total)))
    return out


def _callers(series: Series, service: str) -> list[EdgeSeries]:
    return [e for (_, callee), e in series.edges.items() if callee == service]


def queue_time(series: Series, service: str) -> Values:
    """Callers' mean attempt time to `service` minus its own mean server time."""
    if service == "storefront":  # its caller is the load generator
        waited = _per(series.load_latency.sum, series.load_latency.count)
    else:
        edges = _callers(series, service)
        if not edges:
            return [None] * len(series)
        waited = _per(add(*(e.attempt_time for e in edges)), add(*(e.attempts for e in edges)))
    return _minus(waited, server_time(series.services[service]))


def _edge_share(
    series: Series,
    service: str,
    pick: Callable[[EdgeSeries], Values],
    calls: Callable[[EdgeSeries], Values] = lambda e: e.attempts,
) -> Values:
    edges = _callers(series, service)
    if not edges:
        return [None] * len(series)
    return _per(add(*(pick(e) for e in edges)), add(*(calls(e) for e in edges)))


def failed_calls(edge: EdgeSeries, caused: Values | None = None) -> Values:
    """Calls that failed at the callee, or were cut off by the caller's open breaker.

    With `caused` (the callee's `caused_share`), a 5xx answer or a cut-off call counts in the
    share of its 5xx the callee caused itself: the rest it passed up from a dependency (its own
    breaker on that dependency open, say), and those are the dependency's. A call with no
    answer (timed out, refused) is always the callee's."""
    cut = _outcome(edge, "breaker_open")
    if caused is None:
        return add(edge.failures, cut)
    errors = add(_outcome(edge, "server_error"), cut)
    unanswered = add(*(_outcome(edge, o) for o in NO_ANSWER))
    share = [
        None if e is None else e * (1.0 if c is None else c)
        for e, c in zip(errors, caused, strict=True)
    ]
    return add(unanswered, share)


def caused_share(svc: ServiceSeries) -> Values:
    """Per round, the share of the service's 5xx answers it caused itself (own, or refused at
    capacity), carried through rounds with none (1 until it first answers a 5xx)."""
    out: Values = []
    last = 1.0
    for mine, errors in zip(own_5xx(svc), svc.errors, strict=True):
        if errors and mine is not None:
            last = min(1.0, mine / errors)
        out.append(last)
    return out


def calls_made(edge: EdgeSeries) -> Values:
    """Attempts sent plus calls cut off by the caller's open breaker."""
    return add(edge.attempts, _outcome(edge, "breaker_open"))


def _outcome(edge: EdgeSeries, outcome: str) -> Values:
    """The edge's calls that ended in `outcome` (unknown in every round when never seen)."""
    return edge.outcomes.get(outcome, [None] * len(edge.attempts))


def own_5xx(svc: ServiceSeries) -> Values:
    """5xx answers it caused (or refused at capacity), not passed up from a dependency."""
    own = add(svc.errors_own, svc.errors_overload)
    if all(v is None for v in own):  # a run from before the cause label: all 5xx, minus the
        own = _minus(svc.errors, svc.errors_dependency)  # dependency ones if known
    return own


def own_errors(svc: ServiceSeries) -> Values:
    """Share of its answers that are 5xx it caused (or refused at capacity)."""
    return _per(own_5xx(svc), svc.requests)


def _times(values: Values, share: Values) -> Values:
    """Values discounted by the share of time spent in the service's own code: a service whose
    threads all wait on a dependency queues its callers, but the wait is not its doing."""
    return [
        None if v is None else v * (1.0 if s is None else s)
        for v, s in zip(values, share, strict=True)
    ]


def busy_self(svc: ServiceSeries) -> Values:
    """Busy threads over capacity, discounted by the share of time spent waiting on others."""
    if not svc.threads:
        return [None] * len(svc.busy)
    share = self_share(svc)
    return [
        None if b is None else (b / svc.threads) * (1.0 if s is None else s)
        for b, s in zip(svc.busy, share, strict=True)
    ]


def cpu_cores(series: Series, svc: ServiceSeries) -> Values:
    """CPU cores the process used, per round."""
    out: Values = [None]
    for i in range(1, len(series)):
        v, dt = svc.cpu_seconds[i], series.t[i] - series.t[i - 1]
        out.append(None if v is None or dt <= 0 else v / dt)
    return out


def business(series: Series, service: str) -> list[Signal]:
    """Ratios of the business alerts this service owns (numerator per denominator)."""
    out = []
    for alert in BUSINESS_ALERTS:
        if alert.owner != service:
            continue
        num = series.business.get(alert.numerator, [None] * len(series))
        if alert.denominator is None:
            values = num
        else:
            den = series.business.get(alert.denominator, [None] * len(series))
            values = [
                None if n is None else n / max(1.0, d or 0.0) for n, d in zip(num, den, strict=True)
            ]
        out.append(Signal(service, "business", alert.name, values))
    return out


def signals_of(series: Series, service: str) -> list[Signal]:
    """Every signal that would point at `service` as an origin."""
    svc = series.services[service]
    silent: Values = [0.0 if up else 1.0 for up in svc.up]
    caused = caused_share(svc)
    out = [
        Signal(service, "self_time", "", self_time(svc)),
        Signal(service, "queue_time", "", _times(queue_time(series, service), self_share(svc))),
        Signal(service, "own_errors", "", own_errors(svc)),
        Signal(
            service,
            "edge_failures",
            "",
            _edge_share(series, service, lambda e: failed_calls(e, caused), calls_made),
        ),
        Signal(
            service,
            "edge_refusals",
            "",
            _edge_share(series, service, lambda e: e.outcomes["client_error"]),
        ),
        Signal(service, "busy_self", "", busy_self(svc)),
        Signal(service, "cpu_cores", "", cpu_cores(series, svc)),
        Signal(service, "memory_bytes", "", svc.rss_bytes),
        Signal(service, "silent", "", silent),
    ]
    return out + business(series, service)
