"""The envelope around every gateway operation: Idempotency-Key check, validation, the
simulated network delay, at-most-once execution (see `idempotency`), metrics, replay header.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request
from prometheus_client import Counter

from shopsim.context import ServiceContext, current
from shopsim.errors import Conflict
from shopsim.services.payment.idempotency import Outcome, execute, fingerprint, require_key
from shopsim.validation import Model, parse_body


@dataclass
class Gateway:
    """payment's per-app objects: its business metrics, the lock guarding ctx.rng, and how an
    operation waits out the card network (tests swap `wait` to hold an operation on an event
    or to record the delay, instead of sleeping)."""

    operations: Counter
    replays: Counter
    rng_lock: threading.Lock = field(default_factory=threading.Lock)
    wait: Callable[[float], None] = time.sleep

    def record(self, operation: str, outcome: Outcome) -> None:
        """Count one answered operation (replays apart: the work was not done again)."""
        if outcome.replayed:
            self.replays.labels(operation).inc()
        elif outcome.status < 300:
            self.operations.labels(operation, "approved").inc()
        elif outcome.status == 402:
            self.operations.labels(operation, "declined").inc()
        elif outcome.status == 409:
            self.operations.labels(operation, "conflict").inc()


def of(ctx: ServiceContext) -> Gateway:
    """payment's state: the `Gateway` its init_app set on the service context."""
    found = ctx.service_state
    if not isinstance(found, Gateway):
        raise TypeError(f"{ctx.service} has no payment gateway (init_app builds it)")
    return found


def network_delay_s(ctx: ServiceContext) -> float:
    """One simulated card-network round trip: latency +- uniform jitter, in seconds."""
    settings = ctx.settings
    with of(ctx).rng_lock:  # random.Random is not safe to share between threads
        jitter = ctx.rng.uniform(-settings.payment_jitter_ms, settings.payment_jitter_ms)
    return max(0.0, settings.payment_latency_ms + jitter) / 1000


Handler = Callable[..., tuple[int, dict[str, Any]]]
View = Callable[..., Response]


def gateway_operation(
    operation: str, model: type[Model], *, body_optional: bool = False
) -> Callable[[Handler], View]:
    """Make `handler(conn, body, **path)` a POST view: key check, validation, at-most-once work
    under the Idempotency-Key, the network delay, metrics, replay header. One path for all."""

    def wrap(handler: Handler) -> View:
        @functools.wraps(handler)
        def view(**path: str) -> Response:
            ctx = current()
            gateway = of(ctx)
            key = require_key(request)
            # Validated before the key is claimed, so a refused request stores nothing.
            if body_optional and not request.get_data(cache=True):
                body = model()
            else:
                body = parse_body(request, model)
            digest = fingerprint(request.method, request.path, body.model_dump(mode="json"))

            def network() -> None:
                gateway.wait(network_delay_s(ctx))

            every_call = ctx.settings.payment_round_trip_every_call
            if every_call:  # the keys are checked across the network: even a replay waits
                network()
            try:
                outcome = execute(
                    ctx.db,
                    key,
                    digest,
                    lambda conn: handler(conn, body, **path),
                    before=None if every_call else network,
                )
            except Conflict:  # the key is busy or was used for another request
                gateway.operations.labels(operation, "conflict").inc()
                raise
            gateway.record(operation, outcome)
            response = Response(outcome.body, status=outcome.status, mimetype="application/json")
            if outcome.replayed:
                response.headers["Idempotent-Replayed"] = "true"
            return response

        return view

    return wrap
