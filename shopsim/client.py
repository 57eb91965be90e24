"""Calling another service: one `Dependency` per edge of the call graph.

A call goes out through an `httpx.Client` (whose transport tests may replace with
`httpx.WSGITransport` to reach a Flask app in-process). Safe calls (GET, PUT, DELETE, or any call
carrying an Idempotency-Key) are retried on timeouts, connection errors and 5xx, with backoff,
within the retry budget and only while the circuit breaker lets calls through. Every attempt is
counted by outcome in the dependency metrics, and every whole call timed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shopsim.errors import PASS_THROUGH_STATUSES, Unavailable, from_response
from shopsim.faults.outbound import FaultTransport
from shopsim.faults.state import Faults
from shopsim.metrics import ServiceMetrics
from shopsim.resilience import CircuitBreaker, RetryBudget, backoff_delay
from shopsim.settings import DependencyPolicy

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})


class DependencyFailed(Unavailable):
    """A dependency could not give an answer: timeout, refused connection, 5xx, open breaker."""

    code = "dependency_failed"

    def __init__(self, dependency: str, reason: str, message: str) -> None:
        super().__init__(message, extra={"dependency": dependency, "reason": reason})
        self.dependency = dependency
        self.reason = reason


class Dependency:
    """A resilient HTTP client for one dependency of one service."""

    def __init__(
        self,
        *,
        service: str,
        name: str,
        base_url: str,
        policy: Callable[[], DependencyPolicy],
        metrics: ServiceMetrics,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.service = service
        self.name = name
        self._policy = policy
        self._metrics = metrics
        self._rng = rng or random.Random()
        self._breaker_gauge = metrics.breaker_state.labels(service, name)
        self._retries = metrics.dep_retries.labels(service, name)
        self.breaker = CircuitBreaker()
        self.budget = RetryBudget()
        limit = policy().max_connections
        limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
        inner = transport or httpx.HTTPTransport(limits=limits)
        self._client = httpx.Client(
            base_url=base_url,
            transport=FaultTransport(inner, faults, name) if faults else inner,
            headers={"User-Agent": f"shopsim-{service}"},
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries; return the final response (2xx or 4xx) or raise DependencyFailed.

        The whole call (every attempt, backoff sleep and refusal) is observed once, so the
        time a service spends waiting on its dependencies is known per request."""
        started = time.perf_counter()
        try:
            return self._send(method, path, json=json, params=params, headers=headers)
        finally:
            self._metrics.observe_call(self.name, time.perf_counter() - started)

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        policy = self._policy()
        headers = httpx.Headers(headers or {})
        retriable = method in SAFE_METHODS or "Idempotency-Key" in headers  # case-insensitive
        attempts = 1 + (policy.retries if retriable else 0)
        timeout = httpx.Timeout(policy.timeout_s, connect=policy.connect_timeout_s)
        self.budget.record_request()
        failure: DependencyFailed | None = None
        for attempt in range(attempts):
            if attempt:
                if not self.budget.try_spend(policy):
                    self._metrics.observe_dependency(self.name, "budget_exhausted", None)
                    break
                self._retries.inc()
                time.sleep(backoff_delay(policy, attempt, self._rng))
            if not self.breaker.allow(policy):
                self._metrics.observe_dependency(self.name, "breaker_open", None)
                failure = DependencyFailed(self.name, "breaker_open", f"{self.name} circuit open")
                break
            started = time.perf_counter()
            try:
                response = self._client.request(
                    method, path, json=json, params=params, headers=headers, timeout=timeout
                )
            except httpx.TimeoutException as exc:
                failure = self._failed("timeout", started, policy, exc)
                continue
            except httpx.TransportError as exc:
                failure = self._failed("connect_error", started, policy, exc)
                continue
            finally:
                self._set_breaker_gauge()
            elapsed = time.perf_counter() - started
            status = response.status_code
            ok = status < 500
            outcome = "success" if status < 400 else "client_error" if ok else "server_error"
            self._metrics.observe_dependency(self.name, outcome, elapsed)
            self.breaker.record(policy, ok)
            self._set_breaker_gauge()
            if status in RETRY_STATUSES:
                failure = DependencyFailed(
                    self.name, "server_error", f"{self.name} answered {status}"
                )
                continue
            return response
        assert failure is not None  # every path out of the loop without a response sets it
        raise failure

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send and decode: the JSON object of a 2xx, a passed-through error for a caller mistake.

        Every shopsim service answers with a JSON object; a 2xx without one is the
        dependency's failure, like a 5xx."""
        response = self.request(method, path, **kwargs)
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.status_code < 300 and isinstance(body, dict):
            return body
        if response.status_code < 300:
            raise DependencyFailed(
                self.name,
                "server_error",
                f"{self.name} answered {response.status_code} without a JSON object",
            )
        if response.status_code in PASS_THROUGH_STATUSES:
            raise from_response(response.status_code, body, response.headers)
        raise DependencyFailed(
            self.name, "server_error", f"{self.name} answered {response.status_code}"
        )

    def _failed(
        self, reason: str, started: float, policy: DependencyPolicy, exc: Exception
    ) -> DependencyFailed:
        self._metrics.observe_dependency(self.name, reason, time.perf_counter() - started)
        self.breaker.record(policy, False)
        return DependencyFailed(self.name, reason, f"{self.name}: {reason} ({type(exc).__name__})")

    def _set_breaker_gauge(self) -> None:
        self._breaker_gauge.set(1 if self.breaker.is_open else 0)
