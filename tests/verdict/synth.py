"""Synthetic series with known answers: a healthy store, then whatever a test does to it.

`healthy(n)` is a store of eight services at steady load for n one-second rounds: every request
answered fast, no errors, a few threads busy. Tests then change rounds of it (a dependency that
slows down, an edge that fails, a business counter that runs away) and check what the judges
make of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from shopsim.settings import DEPENDENCIES
from shopsim.verdict.names import BUSINESS
from shopsim.verdict.series import EdgeSeries, Histo, Series, ServiceSeries

BUSINESS_KEYS = tuple(BUSINESS)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, math.inf)
OUTCOMES = (
    "success",
    "client_error",
    "server_error",
    "timeout",
    "connect_error",
    "breaker_open",
    "budget_exhausted",
)


def histo(n: int, count: float, seconds: float) -> Histo:
    """Every round: `count` observations of `seconds` each."""
    buckets = {le: [count if seconds <= le else 0.0] * n for le in BUCKETS}
    return Histo(buckets, [count] * n, [count * seconds] * n)


def set_latency(h: Histo, rounds: Iterable[int], seconds: float) -> None:
    """Make the observations of `rounds` take `seconds` each."""
    for i in rounds:
        count = h.count[i] or 0.0
        h.sum[i] = count * seconds
        for le in BUCKETS:
            h.buckets[le][i] = count if seconds <= le else 0.0


def service(n: int, name: str, *, rate: float = 10.0, own_s: float = 0.004) -> ServiceSeries:
    """A healthy service: `rate` requests/s, `own_s` of its own work each, plus its calls."""
    calls = len(DEPENDENCIES[name]) * 0.003
    return ServiceSeries(
        up=[True] * n,
        requests=[rate] * n,
        errors=[0.0] * n,
        errors_own=[0.0] * n,
        errors_dependency=[0.0] * n,
        errors_overload=[0.0] * n,
        latency=histo(n, rate, own_s + calls),
        call_time=[rate * calls] * n,
        threads=16.0,
        busy=[1.0] * n,
        in_flight=[1.0] * n,
        rejected=[0.0] * n,
        cpu_seconds=[0.05] * n,
        rss_bytes=[80e6] * n,
        routes={"/work": histo(n, rate, own_s + calls)},
    )


def edge(
    n: int, caller: str, callee: str, *, rate: float = 10.0, seconds: float = 0.003
) -> EdgeSeries:
    """A healthy edge: every attempt succeeds in `seconds`."""
    outcomes = {o: [0.0] * n for o in OUTCOMES}
    outcomes["success"] = [rate] * n
    return EdgeSeries(
        caller, callee, [rate] * n, [0.0] * n, outcomes, [rate * seconds] * n, [0.0] * n, [0.0] * n
    )


def healthy(n: int = 90, *, checkouts: float = 4.0, browse: float = 20.0) -> Series:
    """A healthy store at steady load for n rounds."""
    return Series(
        t=[float(i) for i in range(n)],
        checkout_good=[checkouts] * n,
        checkout_bad=[0.0] * n,
        checkout_latency=histo(n, checkouts, 0.3),
        load_latency=histo(n, browse + checkouts, 0.05),
        browse_good=[browse] * n,
        browse_bad=[0.0] * n,
        arrivals=[8.0] * n,
        dropped=[0.0] * n,
        late=[0.0] * n,
        target=[8.0] * n,
        checkouts_in_flight=[1.0] * n,
        load_cpu=[20.0] * n,
        error_pages=[0.0] * n,
        services={name: service(n, name) for name in DEPENDENCIES},
        edges={(c, d): edge(n, c, d) for c, deps in DEPENDENCIES.items() for d in deps},
        business={key: [0.0] * n for key in BUSINESS_KEYS},
    )


def callers_of(series: Series, callee: str) -> list[EdgeSeries]:
    """The edges into `callee`."""
    return [e for (_, d), e in series.edges.items() if d == callee]


def slow_down(series: Series, name: str, rounds: Iterable[int], extra_s: float) -> None:
    """`name` takes `extra_s` longer in its own code; everyone upstream waits for it."""
    rounds = list(rounds)
    svc = series.services[name]
    for i in rounds:
        per = (svc.latency.sum[i] or 0) / (svc.latency.count[i] or 1) + extra_s
        set_latency(svc.latency, [i], per)
    for e in callers_of(series, name):
        for i in rounds:
            e.attempt_time[i] = (e.attempts[i] or 0) * (
                (svc.latency.sum[i] or 0) / (svc.latency.count[i] or 1)
            )
        _propagate_wait(series, e.caller, rounds, extra_s)


def _propagate_wait(series: Series, caller: str, rounds: list[int], extra_s: float) -> None:
    """The caller's calls take longer: its server time and call time grow alike."""
    svc = series.services[caller]
    for i in rounds:
        count = svc.latency.count[i] or 0
        per = (svc.latency.sum[i] or 0) / (count or 1) + extra_s
        set_latency(svc.latency, [i], per)
        svc.call_time[i] = (svc.call_time[i] or 0) + count * extra_s
    for e in callers_of(series, caller):
        for i in rounds:
            e.attempt_time[i] = (e.attempt_time[i] or 0) + (e.attempts[i] or 0) * extra_s
        _propagate_wait(series, e.caller, rounds, extra_s)


def fail_edge_into(
    series: Series, name: str, rounds: Iterable[int], share: float, outcome: str = "timeout"
) -> None:
    """A share of every call into `name` fails with `outcome`; the callers pass the errors up."""
    rounds = list(rounds)
    for e in callers_of(series, name):
        for i in rounds:
            bad = (e.attempts[i] or 0) * share
            e.outcomes[outcome][i] = bad
            e.outcomes["success"][i] = (e.attempts[i] or 0) - bad
            e.failures[i] = bad
        caller = series.services[e.caller]
        for i in rounds:
            caller.errors[i] = (caller.requests[i] or 0) * share
            caller.errors_dependency[i] = caller.errors[i]


def errors_of_its_own(series: Series, name: str, rounds: Iterable[int], share: float) -> None:
    """A share of `name`'s answers are 5xx it caused itself (no dependency passed them up)."""
    svc = series.services[name]
    for i in rounds:
        svc.errors[i] = svc.errors_own[i] = (svc.requests[i] or 0) * share


def customers_hurt(series: Series, rounds: Iterable[int], share: float) -> None:
    """A share of checkouts fail as the customer sees it."""
    for i in rounds:
        total = (series.checkout_good[i] or 0) + (series.checkout_bad[i] or 0)
        series.checkout_bad[i] = total * share
        series.checkout_good[i] = total - total * share
