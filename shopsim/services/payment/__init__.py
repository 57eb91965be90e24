"""payment: a fake card gateway with realistic latency and Stripe-style idempotency keys.

views        the routes (listed in its docstring) and the fault switch points
gateway      the per-process state and the shape of every POST
idempotency  the Idempotency-Key store
tables       the tables: authorizations, charges

How the routes behave (idempotency, fault switch points) is told in `views`.
"""

from __future__ import annotations

from flask import Flask

from shopsim.context import ServiceContext
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import (
    PAYMENT_OPERATIONS_DONE,
    PAYMENT_REFERENCES_CHARGED_TWICE,
    PAYMENT_REPLAYS,
)
from shopsim.services.payment import views
from shopsim.services.payment.figures import references_charged_twice
from shopsim.services.payment.gateway import Gateway, network_delay_s
from shopsim.services.payment.tables import metadata

__all__ = ["metadata", "init_app", "network_delay_s"]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes and the gateway's business metrics."""
    # Every operation x outcome starts at zero (captures by result included: a duplicate charge
    # shows as approved captures beyond confirmed orders).
    operations = make(PAYMENT_OPERATIONS_DONE, ctx.metrics.registry)
    twice = make(PAYMENT_REFERENCES_CHARGED_TWICE, ctx.metrics.registry)
    twice.set_function(references_charged_twice(ctx.db))
    replays = make(PAYMENT_REPLAYS, ctx.metrics.registry)
    ctx.service_state = Gateway(operations=operations, replays=replays)
    app.register_blueprint(views.bp)
