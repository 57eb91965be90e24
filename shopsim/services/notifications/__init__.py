"""notifications: an outbox and a sender; mail lands in a mail-sink table, never the network.

views    the routes (listed in its docstring)
sender   the sender loop and its per-process state
outbox   the outbox as its faults may write to it
models   request bodies; tables: the tables

How the routes behave (the event_id as idempotency key, the sender's cadence) is told in `views`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from shopsim.context import ServiceContext
from shopsim.db import Database
from shopsim.metrics import make
from shopsim.metrics.catalogue import business as metrics
from shopsim.seeddata import SeedData
from shopsim.services.notifications import views
from shopsim.services.notifications.outbox import Outbox
from shopsim.services.notifications.sender import (
    TEMPLATES,
    Notifier,
    Recipient,
    gift_alert_audience,
    outbox_depth,
    outbox_oldest_age_s,
    send_pending,
)
from shopsim.services.notifications.tables import contacts, metadata
from shopsim.services.notifications.tables import registry_subscriptions as subscriptions

__all__ = [
    "metadata",
    "init_app",
    "load_seed",
    "Outbox",
    "send_pending",
    "gift_alert_audience",
    "Recipient",
]


def _or_nan(read: Callable[[], float]) -> Callable[[], float]:
    """A scrape must not fail because the database is away: report NaN instead."""

    def safe() -> float:
        try:
            return float(read())
        except Exception:
            return float("nan")

    return safe


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, business metrics, outbox gauges and the sender loop."""
    registry = ctx.metrics.registry
    sent = make(metrics.MAIL_SENT, registry)
    enqueued = make(metrics.NOTIFICATIONS_ENQUEUED, registry)
    for template in TEMPLATES:
        sent.labels(template)
        enqueued.labels(template)
    make(metrics.OUTBOX_DEPTH, registry).set_function(_or_nan(lambda: outbox_depth(ctx.db)))
    make(metrics.OUTBOX_OLDEST_AGE, registry).set_function(
        _or_nan(lambda: outbox_oldest_age_s(ctx.db))
    )
    ctx.service_state = Notifier(sent=sent, enqueued=enqueued)
    app.register_blueprint(views.bp)
    ctx.every(ctx.settings.outbox_poll_s, "outbox-sender", lambda: send_pending(ctx))


def load_seed(db: Database, data: SeedData) -> None:
    """A contact per customer, and each registry's owner subscribed to its gift alerts."""
    with db.write() as conn:
        if not data.customers:
            return
        conn.execute(
            contacts.insert(),
            [
                {"customer_id": c.id, "email": c.email, "first_name": c.first_name}
                for c in data.customers
            ],
        )
        if data.registries:
            conn.execute(
                subscriptions.insert(),
                [
                    {"registry_id": r.id, "customer_id": r.owner_customer_id}
                    for r in data.registries
                ],
            )
