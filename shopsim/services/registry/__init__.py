"""registry: gift registries, the gifts bought from them, and the gift alerts those trigger.

views    the routes (listed in its docstring)
state    what this process keeps in memory: the gift counter
gifts    recording a purchase; alerts: enqueueing its gift alert
tables   the tables: registries, items, purchases

A purchase is committed first (see `gifts`) and its gift alert enqueued to notifications after
(see `alerts`): if that fails, `retry_pending_alerts(ctx)` enqueues it later.
"""

from __future__ import annotations

import time

from flask import Flask

from shopsim.context import ServiceContext
from shopsim.db import Database
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import GIFT_PURCHASES
from shopsim.seeddata import REGISTRY_KINDS, SeedData
from shopsim.services.registry import state, views
from shopsim.services.registry.alerts import retry_pending_alerts
from shopsim.services.registry.tables import items, metadata, purchases, registries

__all__ = [
    "metadata",
    "init_app",
    "load_seed",
    "retry_pending_alerts",
    "registries",
    "items",
    "purchases",
]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, gift metrics and the pending-alert retrier."""
    gifts = make(GIFT_PURCHASES, ctx.metrics.registry)
    for kind in REGISTRY_KINDS:
        gifts.labels(kind)
    ctx.service_state = state.RegistryState(gifts=gifts)

    app.register_blueprint(views.bp)
    ctx.every(2.0, "gift-alerts", lambda: retry_pending_alerts(ctx))


def load_seed(db: Database, data: SeedData) -> None:
    """Insert the seed's registries (owner named after the seed customer) and wished items."""
    names = {c.id: c.name for c in data.customers}
    if not data.registries:
        return
    with db.write() as conn:
        conn.execute(
            registries.insert(),
            [
                dict(
                    id=r.id,
                    owner_customer_id=r.owner_customer_id,
                    kind=r.kind,
                    title=r.title,
                    owner_name=names[r.owner_customer_id],
                    created_at=time.time(),
                )
                for r in data.registries
            ],
        )
        lines = [(r.id, sku, wanted) for r in data.registries for sku, wanted in r.items]
        conn.execute(
            items.insert(),
            [dict(registry_id=r, sku=s, wanted=w, purchased=0) for r, s, w in lines],
        )
