"""registry: gift registries, the gifts bought from them, and the gift alerts those trigger.

    GET  /registries?q=&kind=&owner_customer_id=&limit=   search by title or owner name
    GET  /registries/<id>                                 one registry with its wished items
    POST /registries/<id>/purchases                       record a gift (idempotent by order_id)

A purchase is committed first (see `gifts`) and its gift alert enqueued to notifications after
(see `alerts`): if that fails, `retry_pending_alerts(ctx)` enqueues it later.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from flask import Blueprint, Flask, jsonify, request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shopsim.context import ServiceContext, current
from shopsim.db import Database
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import GIFT_PURCHASES
from shopsim.seeddata import REGISTRY_KINDS, SeedData
from shopsim.services.registry import state
from shopsim.services.registry.alerts import retry_pending_alerts, send_alert
from shopsim.services.registry.gifts import record_purchase
from shopsim.services.registry.tables import (
    find_registry,
    items,
    metadata,
    purchases,
    registries,
    summary,
)
from shopsim.validation import (
    CustomerId,
    Line,
    Model,
    Query,
    ShortText,
    distinct_skus,
    parse_body,
    parse_query,
)

__all__ = [
    "metadata",
    "init_app",
    "load_seed",
    "retry_pending_alerts",
    "registries",
    "items",
    "purchases",
]


class RegistryQuery(Query):
    q: Annotated[str, Field(max_length=100)] = ""
    kind: Literal["", "baby", "wedding", "birthday"] = ""
    owner_customer_id: CustomerId | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class PurchaseRequest(Model):
    order_id: Annotated[str, Field(min_length=1, max_length=64)]
    items: Annotated[list[Line], Field(min_length=1, max_length=50)]
    buyer_name: ShortText


bp = Blueprint("registry", __name__)


@bp.get("/registries")
def search():  # type: ignore[no-untyped-def]
    """Registries whose title or owner name contains q, filtered by kind and owner."""
    query = parse_query(request.args, RegistryQuery)
    stmt = select(registries).order_by(registries.c.id).limit(query.limit)
    if query.q:
        pattern = f"%{query.q.lower()}%"
        found = registries.c.title.ilike(pattern) | registries.c.owner_name.ilike(pattern)
        stmt = stmt.where(found)
    if query.kind:
        stmt = stmt.where(registries.c.kind == query.kind)
    if query.owner_customer_id is not None:
        stmt = stmt.where(registries.c.owner_customer_id == query.owner_customer_id)
    with current().db.read() as conn:
        rows = conn.execute(stmt).fetchall()
    return jsonify({"registries": [summary(r) for r in rows]})


@bp.get("/registries/<int:registry_id>")
def get_registry(registry_id: int):  # type: ignore[no-untyped-def]
    """One registry with what is wanted and what was bought so far."""
    with current().db.read() as conn:
        row = find_registry(conn, registry_id)
        lines = conn.execute(
            select(items).where(items.c.registry_id == registry_id).order_by(items.c.sku)
        ).fetchall()
    wanted = [{"sku": r.sku, "wanted": r.wanted, "purchased": r.purchased} for r in lines]
    return jsonify(summary(row) | {"items": wanted})


@bp.post("/registries/<int:registry_id>/purchases")
def purchase(registry_id: int):  # type: ignore[no-untyped-def]
    """Record a gift bought from a registry, then enqueue the owner's gift alert."""
    body = parse_body(request, PurchaseRequest)
    distinct_skus(body.items)
    ctx = current()
    lines: list[dict[str, Any]] = [{"sku": x.sku, "quantity": x.quantity} for x in body.items]
    args = (ctx, registry_id, body.order_id, lines, body.buyer_name)
    try:
        status, response = record_purchase(*args)
    except IntegrityError:  # a concurrent request with this order_id inserted first: replay it
        status, response = record_purchase(*args)
    if status == 201:
        send_alert(ctx, body.order_id)
    return jsonify(response), status


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, gift metrics and the pending-alert retrier."""
    gifts = make(GIFT_PURCHASES, ctx.metrics.registry)
    for kind in REGISTRY_KINDS:
        gifts.labels(kind)
    ctx.service_state = state.RegistryState(gifts=gifts)

    app.register_blueprint(bp)
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
