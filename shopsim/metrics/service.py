"""The metrics every service exports: RED on the server side, 5xx by cause, dependency calls on
the client side, saturation, and the process's own CPU and memory. Each app owns a
`CollectorRegistry`; business metrics are added by the services themselves on the same
registry, from the same catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector

from shopsim.metrics.catalogue import common as c
from shopsim.metrics.catalogue.values import (
    DEPENDENCY_OUTCOMES,
    PRECREATED_STATUSES,
    SERVER_ERROR_CAUSES,
)
from shopsim.metrics.definition import make


class ServiceMetrics:
    """The metrics common to every service, registered on one app's registry."""

    def __init__(self, service: str, registry: CollectorRegistry, threads: int) -> None:
        self.service = service
        self.registry = registry
        self.requests = make(c.HTTP_REQUESTS, registry)
        self.duration = make(c.HTTP_DURATION, registry)
        self.server_errors = make(c.HTTP_SERVER_ERRORS, registry)
        self.in_flight = make(c.IN_FLIGHT, registry).labels(service)
        self.rejected = make(c.REJECTED, registry).labels(service)
        self.threads_busy = make(c.THREADS_BUSY, registry).labels(service)
        make(c.THREADS, registry).labels(service).set(threads)
        self.dep_requests = make(c.DEPENDENCY_REQUESTS, registry)
        self.dep_duration = make(c.DEPENDENCY_DURATION, registry)
        self.dep_call_duration = make(c.DEPENDENCY_CALL_DURATION, registry)
        self.dep_retries = make(c.DEPENDENCY_RETRIES, registry)
        self.breaker_state = make(c.BREAKER_OPEN, registry)
        self.db_pool_wait = make(c.DB_POOL_WAIT, registry).labels(service)
        # CPU seconds and resident memory of this process: one process per service, so a
        # service's CPU burn or memory leak shows in its own series.
        ProcessCollector(registry=registry)
        # labelled children by metric and label values: `labels()` validates and locks on
        # every call, and every request and dependency call would pay for it several times
        self._children: dict[tuple[int | str, ...], Any] = {}

    def precreate(self, routes: Iterable[tuple[str, str]], dependencies: Iterable[str]) -> None:
        """Create zero series for known label sets so ratios exist before the first event."""
        templates = set()
        for route, method in routes:
            templates.add(route)
            self.duration.labels(self.service, route, method)
            for status in PRECREATED_STATUSES:
                self.requests.labels(self.service, route, method, status)
        for route in sorted(templates):
            for cause in SERVER_ERROR_CAUSES:
                self.server_errors.labels(self.service, route, cause)
        for dep in dependencies:
            for outcome in DEPENDENCY_OUTCOMES:
                self.dep_requests.labels(self.service, dep, outcome)
            self.dep_duration.labels(self.service, dep)
            self.dep_call_duration.labels(self.service, dep)
            self.dep_retries.labels(self.service, dep)
            self.breaker_state.labels(self.service, dep).set(0)

    def observe_request(
        self, route: str, method: str, status: int, seconds: float, cause: str | None = None
    ) -> None:
        """Record one served request; a 5xx also counts under `cause` (SERVER_ERROR_CAUSES)."""
        self._child(self.requests, route, method, str(status)).inc()
        self._child(self.duration, route, method).observe(seconds)
        if status >= 500:
            self._child(self.server_errors, route, cause or "own").inc()

    def observe_dependency(self, dependency: str, outcome: str, seconds: float | None) -> None:
        """Record one outbound attempt (seconds is None when nothing was sent)."""
        self._child(self.dep_requests, dependency, outcome).inc()
        if seconds is not None:
            self._child(self.dep_duration, dependency).observe(seconds)

    def observe_call(self, dependency: str, seconds: float) -> None:
        """Record one whole call to a dependency, however many attempts it took."""
        self._child(self.dep_call_duration, dependency).observe(seconds)

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric`'s child for this service and `labels`, made once."""
        key: tuple[int | str, ...] = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.service, *labels)
        return child
