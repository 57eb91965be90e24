"""checkout's business metrics: step durations, outcomes, revenue and the followup backlog."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from shopsim.context import ServiceContext
from shopsim.metrics import LATENCY_BUCKETS

STEPS = ("cart", "price", "reserve", "authorize", "create_order", "capture", "commit", "confirm")
OUTCOMES = ("confirmed", "declined", "out_of_stock", "cart_empty", "failed")


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
    steps = Histogram(
        "shopsim_checkout_step_duration_seconds",
        "Time of one checkout saga step, successful or not.",
        ["step"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    orders = Counter(
        "shopsim_checkout_orders",
        "Checkout answers by outcome; confirmed counts each order once, whoever confirms it.",
        ["outcome"],
        registry=registry,
    )
    revenue = Counter(
        "shopsim_checkout_revenue_dollars",
        "Value of confirmed orders.",
        registry=registry,
    )
    Gauge(
        "shopsim_checkout_followups_pending",
        "Followups (confirmation mail, registry purchase, cart clearing) not done yet.",
        registry=registry,
    ).set_function(followups_pending)
    for step in STEPS:
        steps.labels(step)
    for outcome in OUTCOMES:
        orders.labels(outcome)
    return Instruments(steps, orders, revenue)
