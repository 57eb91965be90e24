"""The per-round numbers the verdict judges, derived from a run's samples.

`Series` is plain data: lists with one value per scrape round (None where nobody could say),
grouped as the customer saw it (the load generator's side), per service (server side), per
edge of the call graph (the caller's side) and the business counters. Judges read only this;
tests build it directly with known answers.

`shopsim_fault_*` series are never read here: the root cause must come from what a store without
a fault injector would also show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from shopsim.verdict import names as N
from shopsim.verdict.arith import Values, add, gauge, increases
from shopsim.verdict.samples import Samples

#: monitoring and control, not customers
OPERATOR_ROUTES = ("/_chaos", "/_status", "/healthz", "/metrics")
FAILURE_OUTCOMES = ("server_error", "timeout", "connect_error")


@dataclass
class Histo:
    """Per-round increases of a histogram: cumulative bucket counts, count and sum."""

    buckets: dict[float, Values] = field(default_factory=dict)  # le -> increases
    count: Values = field(default_factory=list)
    sum: Values = field(default_factory=list)


@dataclass
class ServiceSeries:
    """One service as it saw itself (its own /metrics)."""

    up: list[bool]
    requests: Values
    errors: Values  # 5xx answered
    errors_own: Values  # 5xx not caused by a dependency or overload
    errors_dependency: Values
    errors_overload: Values
    latency: Histo  # server time of customer-facing routes
    call_time: Values  # seconds spent in whole calls to its dependencies
    threads: float | None
    busy: Values
    in_flight: Values
    rejected: Values
    cpu_seconds: Values  # process CPU used per round
    rss_bytes: Values
    routes: dict[str, Histo] = field(default_factory=dict)  # route template -> server time


@dataclass
class EdgeSeries:
    """Calls from `caller` to `callee`, as the caller counted them."""

    caller: str
    callee: str
    attempts: Values
    failures: Values  # timeouts, refused connections, 5xx
    outcomes: dict[str, Values]
    attempt_time: Values  # seconds, summed over attempts
    retries: Values
    breaker_open: Values


@dataclass
class Series:
    """Everything the judges read, one value per scrape round."""

    t: list[float]  # seconds since the load started
    checkout_good: Values
    checkout_bad: Values
    checkout_latency: Histo  # the customer's wait for an order (client side)
    load_latency: Histo  # every request the load generator sent
    browse_good: Values
    browse_bad: Values
    arrivals: Values
    dropped: Values
    late: Values
    target: Values  # the load shape's target (arrivals/s or users)
    checkouts_in_flight: Values  # orders sent and not yet answered
    load_cpu: Values  # the busiest load process's CPU percent
    error_pages: Values
    services: dict[str, ServiceSeries]
    edges: dict[tuple[str, str], EdgeSeries]
    business: dict[str, Values]  # see names.BUSINESS
    # distinct customers a failed journey hurt so far, summed over load processes (none: a run
    # from before the gauge)
    customers_hurt: Values = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t)


def _sum_increases(samples: Samples, name: str, sources: list[str], **match: str) -> Values:
    found = [increases(v) for _, _, v in samples.series(name, sources, **match)]
    return add(*found) if found else [None] * len(samples.rounds)


def _sum_gauge(samples: Samples, name: str, sources: list[str], **match: str) -> Values:
    found = [gauge(v) for _, _, v in samples.series(name, sources, **match)]
    return add(*found) if found else [None] * len(samples.rounds)


def _histo(
    samples: Samples,
    base: str,
    sources: list[str],
    keep: Callable[[dict[str, str]], bool] = lambda labels: True,
    **match: str,
) -> Histo:
    n = len(samples.rounds)
    buckets: dict[float, list[Values]] = {}
    counts: list[Values] = []
    sums: list[Values] = []
    for _, labels, values in samples.series(base + "_bucket", sources, **match):
        if keep(labels):
            le = math.inf if labels["le"] == "+Inf" else float(labels["le"])
            buckets.setdefault(le, []).append(increases(values))
    for _, labels, values in samples.series(base + "_count", sources, **match):
        if keep(labels):
            counts.append(increases(values))
    for _, labels, values in samples.series(base + "_sum", sources, **match):
        if keep(labels):
            sums.append(increases(values))
    return Histo(
        {le: add(*parts) for le, parts in buckets.items()},
        add(*counts) if counts else [None] * n,
        add(*sums) if sums else [None] * n,
    )


def _customer_route(labels: dict[str, str]) -> bool:
    return not labels.get("route", "").startswith(OPERATOR_ROUTES)


def _service(samples: Samples, name: str) -> ServiceSeries:
    src = [name]
    n = len(samples.rounds)

    def requests(status_prefix: str = "") -> Values:
        parts = [
            increases(v)
            for _, labels, v in samples.series(N.HTTP_REQUESTS, src)
            if _customer_route(labels) and labels.get("status", "").startswith(status_prefix)
        ]
        return add(*parts) if parts else [None] * n

    routes: dict[str, Histo] = {}
    for _, labels, _values in samples.series(N.HTTP_DURATION + "_count", src):
        route = labels.get("route", "")
        if _customer_route(labels) and route not in routes:
            routes[route] = _histo(samples, N.HTTP_DURATION, src, route=route)
    threads = [v for _, _, vals in samples.series(N.THREADS, src) for v in vals if v == v]
    return ServiceSeries(
        up=samples.answered(name) if name in samples.sources else [False] * n,
        requests=requests(),
        errors=requests("5"),
        errors_own=_sum_increases(samples, N.SERVER_ERRORS, src, cause="own"),
        errors_dependency=_sum_increases(samples, N.SERVER_ERRORS, src, cause="dependency"),
        errors_overload=_sum_increases(samples, N.SERVER_ERRORS, src, cause="overload"),
        latency=_histo(samples, N.HTTP_DURATION, src, keep=_customer_route),
        call_time=_histo(samples, N.DEP_CALL_DURATION, src).sum,
        threads=max(threads) if threads else None,
        busy=_sum_gauge(samples, N.THREADS_BUSY, src),
        in_flight=_sum_gauge(samples, N.IN_FLIGHT, src),
        rejected=_sum_increases(samples, N.REJECTED, src),
        cpu_seconds=_sum_increases(samples, N.PROCESS_CPU, src),
        rss_bytes=_sum_gauge(samples, N.PROCESS_RSS, src),
        routes=routes,
    )


def _edge(samples: Samples, caller: str, callee: str) -> EdgeSeries:
    src = [caller]
    outcomes = {
        o: _sum_increases(samples, N.DEP_REQUESTS, src, dependency=callee, outcome=o)
        for o in N.DEPENDENCY_OUTCOMES
    }
    attempts = add(*(outcomes[o] for o in N.DEPENDENCY_OUTCOMES if o in N.SENT_OUTCOMES))
    return EdgeSeries(
        caller=caller,
        callee=callee,
        attempts=attempts,
        failures=add(*(outcomes[o] for o in FAILURE_OUTCOMES)),
        outcomes=outcomes,
        attempt_time=_histo(samples, N.DEP_DURATION, src, dependency=callee).sum,
        retries=_sum_increases(samples, N.DEP_RETRIES, src, dependency=callee),
        breaker_open=_sum_gauge(samples, N.BREAKER_OPEN, src, dependency=callee),
    )


def derive(samples: Samples, origin: float, call_graph: dict[str, tuple[str, ...]]) -> Series:
    """Series from samples; `origin` is the unix time the load started."""
    load = [s for s in samples.sources if N.is_load_source(s)]
    services = list(call_graph)

    def flow_requests(flows: tuple[str, ...], ok: bool) -> Values:
        parts = [
            increases(v)
            for _, labels, v in samples.series(N.LOAD_REQUESTS, load)
            if N.flow_of(labels) in flows and (labels.get("result") == "ok") == ok
        ]
        return add(*parts) if parts else [None] * len(samples.rounds)

    def checkout_result(results: tuple[str, ...]) -> Values:
        return add(*(_sum_increases(samples, N.LOAD_CHECKOUTS, load, result=r) for r in results))

    cpu_parts = [gauge(v) for _, _, v in samples.series(N.LOAD_CPU, load)]
    load_cpu = [
        max((c for c in col if c is not None), default=None) for col in zip(*cpu_parts, strict=True)
    ]
    return Series(
        t=[at - origin for at in samples.rounds],
        checkout_good=checkout_result(N.CHECKOUT_GOOD),
        checkout_bad=checkout_result(N.CHECKOUT_BAD),
        checkout_latency=_histo(samples, N.LOAD_DURATION, load, keep=N.is_order_request),
        load_latency=_histo(samples, N.LOAD_DURATION, load),
        browse_good=flow_requests(N.BROWSE_FLOWS, True),
        browse_bad=flow_requests(N.BROWSE_FLOWS, False),
        arrivals=_sum_increases(samples, N.LOAD_ARRIVALS, load),
        dropped=_sum_increases(samples, N.LOAD_DROPPED, load),
        late=_sum_increases(samples, N.LOAD_LATE, load),
        target=_sum_gauge(samples, N.LOAD_TARGET, load),
        checkouts_in_flight=_sum_gauge(samples, N.LOAD_CHECKOUTS_IN_FLIGHT, load),
        load_cpu=load_cpu or [None] * len(samples.rounds),
        error_pages=_sum_increases(samples, N.ERROR_PAGES, ["storefront"]),
        services={s: _service(samples, s) for s in services},
        edges={
            (caller, callee): _edge(samples, caller, callee)
            for caller, callees in call_graph.items()
            for callee in callees
        },
        business={
            key: (_sum_gauge if kind == "gauge" else _sum_increases)(
                samples, name, list(samples.sources), **match
            )
            for key, (kind, name, match) in N.BUSINESS.items()
        },
        customers_hurt=_sum_gauge(samples, N.LOAD_CUSTOMERS_HURT, load),
    )
