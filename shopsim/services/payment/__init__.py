"""payment: a fake card gateway with realistic latency and Stripe-style idempotency keys.

views        the routes (listed below) and the fault switch points
gateway      the per-process state and the shape of every POST
idempotency  the Idempotency-Key store
tables       the tables: authorizations, charges

POST /authorizations               {"amount_cents","currency","card_token","reference"} -> 201
POST /authorizations/<id>/capture  {} or no body -> 200, one row in the charges ledger
POST /authorizations/<id>/void     {} or no body -> 200 (voiding twice is fine)
GET  /authorizations/<id>          one authorization
GET  /charges?reference=&limit=    the ledger, oldest first (for audits)

Every POST goes through `gateway.gateway_operation`: it needs an Idempotency-Key (see
`idempotency`) and, when it does the work, first waits one simulated card-network round trip:
payment_latency_ms +- uniform jitter.
Test tokens: "tok_decline" and "tok_insufficient_funds" are declined; any other "tok_..." passes.
Fault switch points (in `views`): `_injected_decline` (payment_decline) and `_hold_answer`
(gateway_timeout_after_capture); both are a dict lookup while no fault is active. A held answer
waits on its fault: removing it (or a reset, or its expiry) lets the answer go at once.
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
