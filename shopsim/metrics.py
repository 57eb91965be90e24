"""Metrics every service exports: RED on the server side, dependency calls on the client side,
saturation. Each app owns a `CollectorRegistry`; business metrics are added by the services
themselves with the same registry.

Histogram buckets sit exactly on the SLO thresholds (0.25 s browse, 1 s and 2.5 s checkout), so
the share of requests under a threshold is exact, not interpolated.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Seconds. 0.25 (browse), 1.0 and 2.5 (checkout) are SLO thresholds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DB_WAIT_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)

DEPENDENCY_OUTCOMES = (
    "success",  # 2xx
    "client_error",  # 4xx: the dependency refused the request on its merits
    "server_error",  # 5xx
    "timeout",
    "connect_error",
    "breaker_open",  # not sent: the circuit breaker is open
    "budget_exhausted",  # a retry was wanted but the retry budget said no
)


class ServiceMetrics:
    """The metrics common to every service, registered on one app's registry."""

    def __init__(self, service: str, registry: CollectorRegistry, threads: int) -> None:
        self.service = service
        self.registry = registry
        self.requests = Counter(
            "shopsim_http_requests",
            "HTTP requests served, by route template and status code.",
            ["service", "route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "shopsim_http_request_duration_seconds",
            "Time to serve an HTTP request, by route template.",
            ["service", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "shopsim_http_requests_in_flight",
            "Requests being served right now.",
            ["service"],
            registry=registry,
        ).labels(service)
        self.rejected = Counter(
            "shopsim_http_requests_rejected",
            "Requests refused by admission control with 503 before any work.",
            ["service"],
            registry=registry,
        ).labels(service)
        self.threads_busy = Gauge(
            "shopsim_worker_threads_busy",
            "Worker threads busy serving a request.",
            ["service"],
            registry=registry,
        ).labels(service)
        Gauge(
            "shopsim_worker_threads",
            "Worker threads configured: the service's capacity.",
            ["service"],
            registry=registry,
        ).labels(service).set(threads)
        self.dep_requests = Counter(
            "shopsim_dependency_requests",
            "Outbound calls to a dependency, by outcome (one per attempt).",
            ["service", "dependency", "outcome"],
            registry=registry,
        )
        self.dep_duration = Histogram(
            "shopsim_dependency_request_duration_seconds",
            "Time of one outbound attempt to a dependency.",
            ["service", "dependency"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.dep_retries = Counter(
            "shopsim_dependency_retries",
            "Retried outbound attempts to a dependency.",
            ["service", "dependency"],
            registry=registry,
        )
        self.breaker_state = Gauge(
            "shopsim_circuit_breaker_open",
            "1 while the circuit breaker to a dependency is open (or half-open), else 0.",
            ["service", "dependency"],
            registry=registry,
        )
        self.db_pool_wait = Histogram(
            "shopsim_db_pool_wait_seconds",
            "Time spent waiting for a database connection from the pool.",
            ["service"],
            buckets=DB_WAIT_BUCKETS,
            registry=registry,
        ).labels(service)

    def precreate(self, routes: Iterable[tuple[str, str]], dependencies: Iterable[str]) -> None:
        """Create zero series for known label sets so ratios exist before the first event."""
        for route, method in routes:
            self.duration.labels(self.service, route, method)
            for status in ("200", "500", "503"):
                self.requests.labels(self.service, route, method, status)
        for dep in dependencies:
            for outcome in DEPENDENCY_OUTCOMES:
                self.dep_requests.labels(self.service, dep, outcome)
            self.dep_duration.labels(self.service, dep)
            self.dep_retries.labels(self.service, dep)
            self.breaker_state.labels(self.service, dep).set(0)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one served request."""
        self.requests.labels(self.service, route, method, str(status)).inc()
        self.duration.labels(self.service, route, method).observe(seconds)

    def observe_dependency(self, dependency: str, outcome: str, seconds: float | None) -> None:
        """Record one outbound attempt (seconds is None when nothing was sent)."""
        self.dep_requests.labels(self.service, dependency, outcome).inc()
        if seconds is not None:
            self.dep_duration.labels(self.service, dependency).observe(seconds)
