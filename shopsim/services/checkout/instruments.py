"""checkout's business metrics: step durations, outcomes, revenue and the followup backlog."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from shopsim.context import ServiceContext
from shopsim.metrics import make
from shopsim.metrics.catalogue import business as metrics
from shopsim.metrics.catalogue.values import CHECKOUT_OUTCOMES as OUTCOMES
from shopsim.metrics.catalogue.values import CHECKOUT_STEPS as STEPS

__all__ = ["OUTCOMES", "STEPS", "Instruments", "outcome_of", "register"]


def outcome_of(status: int, code: str) -> str:
    """The outcome label of an answer: its error code when it is a known business outcome."""
    if status == 201:
        return "confirmed"
    if status == 402:
        return "declined"
    return {"insufficient_stock": "out_of_stock", "cart_empty": "cart_empty"}.get(code, "failed")


@dataclass(frozen=True)
class Instruments:
    """The checkout metrics of one app."""

    steps: Histogram
    orders: Counter
    revenue: Counter

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        """Observe how long one saga step takes, whether it succeeds or not."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps.labels(step).observe(time.perf_counter() - started)

    def count(self, status: int, code: str = "") -> None:
        """Count one answer given to a checkout request."""
        self.orders.labels(outcome_of(status, code)).inc()


def register(ctx: ServiceContext, followups_pending: Callable[[], float]) -> Instruments:
    """Create the metrics on the app's registry, every label value pre-created."""
    registry = ctx.metrics.registry
    steps = make(metrics.CHECKOUT_STEP_DURATION, registry)  # every STEPS and OUTCOMES at zero
    orders = make(metrics.CHECKOUT_ORDERS, registry)
    revenue = make(metrics.CHECKOUT_REVENUE, registry)
    make(metrics.CHECKOUT_FOLLOWUPS, registry).set_function(followups_pending)
    return Instruments(steps, orders, revenue)
