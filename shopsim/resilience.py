"""Resilience mechanisms a service applies to its callers and its dependencies.

- `RetryBudget`: retries may be at most a share of recent requests (plus a small floor), so a
  struggling dependency is not hit by a storm of retries.
- `CircuitBreaker`: opens when the failure ratio over a window crosses a threshold, sheds calls
  while open, lets one probe through when half-open.
- `AdmissionControl`: caps in-flight requests; the excess gets 503 with Retry-After at once.
- `backoff_delay`: exponential backoff with full jitter.

All take their numbers from a `DependencyPolicy` read at call time, so settings changed while a
service runs apply to the next call.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque

from shopsim.settings import DependencyPolicy


def backoff_delay(policy: DependencyPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt` (1-based)."""
    if policy.backoff == "none":
        return 0.0
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** (attempt - 1)))
    return rng.uniform(0, ceiling)


class RetryBudget:
    """Retries allowed = ratio x requests in the last 10 s + min_per_s x 10 s."""

    WINDOW_S = 10.0

    def __init__(self) -> None:
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()
        self._lock = threading.Lock()

    def _trim(self, now: float) -> None:
        for q in (self._requests, self._retries):
            while q and q[0] < now - self.WINDOW_S:
                q.popleft()

    def record_request(self) -> None:
        """Count a first attempt."""
        with self._lock:
            now = time.monotonic()
            self._trim(now)
            self._requests.append(now)

    def try_spend(self, policy: DependencyPolicy) -> bool:
        """Take one retry from the budget if there is one left."""
        with self._lock:
            now = time.monotonic()
            self._trim(now)
            allowed = (
                policy.retry_budget_ratio * len(self._requests)
                + policy.retry_budget_min_per_s * self.WINDOW_S
            )
            if len(self._retries) >= allowed:
                return False
            self._retries.append(now)
            return True


class CircuitBreaker:
    """Closed -> open on a high failure ratio -> half-open after a pause -> closed on success."""

    def __init__(self) -> None:
        self._events: deque[tuple[float, bool]] = deque()
        self._opened_at: float | None = None
        self._probe_in_flight = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """True while open or half-open."""
        return self._opened_at is not None

    def allow(self, policy: DependencyPolicy) -> bool:
        """Whether a call may go out now."""
        if not policy.breaker_enabled:
            return True
        with self._lock:
            if self._opened_at is None:
                return True
            if time.monotonic() - self._opened_at < policy.breaker_open_s:
                return False
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True  # half-open: one probe at a time
            return True

    def record(self, policy: DependencyPolicy, ok: bool) -> None:
        """Feed the outcome of a call that went out."""
        with self._lock:
            now = time.monotonic()
            if self._opened_at is not None:
                self._probe_in_flight = False
                if ok:
                    self._opened_at = None
                    self._events.clear()
                else:
                    self._opened_at = now
                return
            self._events.append((now, ok))
            while self._events and self._events[0][0] < now - policy.breaker_window_s:
                self._events.popleft()
            total = len(self._events)
            failures = sum(1 for _, good in self._events if not good)
            if (
                policy.breaker_enabled
                and total >= policy.breaker_min_requests
                and failures / total >= policy.breaker_failure_ratio
            ):
                self._opened_at = now


class AdmissionControl:
    """A counting gate: `enter()` is False when the service already holds `limit` requests.

    A request counts from its arrival when the server reports arrivals (`arrive`/`depart`, the
    gunicorn worker does: waiting for a thread counts), else from `enter`. Counting from
    arrival is what makes a refusal fast: a queue longer than the limit is answered with 503s
    at once instead of being served late to callers that have given up. A limit of 0 admits
    everything (no admission control)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_flight = 0
        self._arrived = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet finished."""
        return self._in_flight

    @property
    def arrived(self) -> int:
        """Requests the server has accepted and not finished (waiting or served)."""
        return self._arrived

    def arrive(self) -> None:
        """The server accepted a request; it waits for a thread from now on."""
        with self._lock:
            self._arrived += 1

    def depart(self) -> None:
        """The server is done with a request it reported with `arrive`."""
        with self._lock:
            self._arrived -= 1

    def enter(self) -> bool:
        """Admit one request if under the limit (a limit of 0 admits everything)."""
        with self._lock:
            held = max(self._arrived, self._in_flight + 1)  # this request included
            if self.limit and held > self.limit:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        """Mark an admitted request finished."""
        with self._lock:
            self._in_flight -= 1
