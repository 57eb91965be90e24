"""registry: gift registries, the gifts bought from them, and the gift alerts those trigger.

    GET  /registries?q=&kind=&owner_customer_id=&limit=   search by title or owner name
    GET  /registries/<id>                                 one registry with its wished items
    POST /registries/<id>/purchases                       record a gift (idempotent by order_id)

A purchase is committed first and its gift alert enqueued to notifications after. If that fails
the purchase stays ``alert_state = 'pending'`` and `retry_pending_alerts(ctx)` enqueues it later;
the event id ``gift:<order_id>`` makes a repeated enqueue harmless.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated, Any, Literal

from flask import Blueprint, Flask, jsonify, request
from prometheus_client import Counter
from pydantic import Field
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError

from shopsim.context import ServiceContext, current
from shopsim.db import Database
from shopsim.errors import Conflict, NotFound, ShopsimError, Unprocessable
from shopsim.seed import REGISTRY_KINDS, SeedData
from shopsim.validation import (
    CustomerId,
    Model,
    Quantity,
    Query,
    ShortText,
    Sku,
    parse_body,
    parse_query,
)

log = logging.getLogger("shopsim")
MAX_ID = 2**31 - 1  # larger path ids cannot exist, and would overflow the database driver

metadata = MetaData()
registries = Table(
    "registry_registries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("owner_customer_id", Integer, nullable=False, index=True),
    Column("owner_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)
items = Table(
    "registry_items",
    metadata,
    Column("registry_id", Integer, primary_key=True),
    Column("sku", String(32), primary_key=True),
    Column("wanted", Integer, nullable=False),
    Column("purchased", Integer, nullable=False, default=0),
)
purchases = Table(
    "registry_purchases",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("registry_id", Integer, nullable=False, index=True),
    Column("items", Text, nullable=False),  # JSON [{"sku","quantity"}] as requested
    Column("buyer_name", String(200), nullable=False),
    Column("alert_state", String(10), nullable=False, index=True),  # pending | sent
    Column("created_at", Float, nullable=False),
    Column("response_body", Text, nullable=False),  # replayed for the same order_id
)


class RegistryQuery(Query):
    q: Annotated[str, Field(max_length=100)] = ""
    kind: Literal["", "baby", "wedding", "birthday"] = ""
    owner_customer_id: CustomerId | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class Line(Model):
    sku: Sku
    quantity: Quantity


class PurchaseRequest(Model):
    order_id: Annotated[str, Field(min_length=1, max_length=64)]
    items: Annotated[list[Line], Field(min_length=1, max_length=50)]
    buyer_name: ShortText


SUMMARY = ("id", "kind", "title", "owner_customer_id", "owner_name")


def _summary(row: Any) -> dict[str, Any]:
    return {key: getattr(row, key) for key in SUMMARY}


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
    return jsonify({"registries": [_summary(r) for r in rows]})


@bp.get("/registries/<int:registry_id>")
def get_registry(registry_id: int):  # type: ignore[no-untyped-def]
    """One registry with what is wanted and what was bought so far."""
    with current().db.read() as conn:
        row = _registry(conn, registry_id)
        lines = conn.execute(
            select(items).where(items.c.registry_id == registry_id).order_by(items.c.sku)
        ).fetchall()
    wanted = [{"sku": r.sku, "wanted": r.wanted, "purchased": r.purchased} for r in lines]
    return jsonify(_summary(row) | {"items": wanted})


@bp.post("/registries/<int:registry_id>/purchases")
def purchase(registry_id: int):  # type: ignore[no-untyped-def]
    """Record a gift bought from a registry, then enqueue the owner's gift alert."""
    body = parse_body(request, PurchaseRequest)
    for i, line in enumerate(body.items):
        if any(other.sku == line.sku for other in body.items[:i]):
            raise Unprocessable(
                f"{line.sku} appears twice", field=f"items[{i}].sku", code="duplicate_sku"
            )
    ctx = current()
    try:
        status, response = _record(ctx, registry_id, body)
    except IntegrityError:  # a concurrent request with this order_id inserted first: replay it
        status, response = _record(ctx, registry_id, body)
    if status == 201:
        _send_alert(ctx, body.order_id)
    return jsonify(response), status


def _registry(conn: Any, registry_id: int) -> Any:
    row = None
    if registry_id <= MAX_ID:
        row = conn.execute(select(registries).where(registries.c.id == registry_id)).first()
    if row is None:
        raise NotFound(f"no registry {registry_id}", field="registry_id")
    return row


def _record(ctx: ServiceContext, registry_id: int, body: PurchaseRequest) -> tuple[int, Any]:
    """Insert the purchase and mark the items bought; or find the earlier one for a replay."""
    lines: list[dict[str, Any]] = [{"sku": x.sku, "quantity": x.quantity} for x in body.items]
    with ctx.db.write() as conn:
        done = conn.execute(select(purchases).where(purchases.c.order_id == body.order_id)).first()
        if done is not None:
            earlier = (done.registry_id, json.loads(done.items), done.buyer_name)
            if earlier != (registry_id, lines, body.buyer_name):
                raise Conflict(
                    f"order {body.order_id} was already recorded with other details",
                    field="order_id",
                    code="idempotency_key_reused",
                )
            return 200, json.loads(done.response_body)
        reg = _registry(conn, registry_id)
        # Lock the registry's lines in SKU order (PostgreSQL) so concurrent gifts serialise.
        wanted = {
            r.sku
            for r in conn.execute(
                select(items.c.sku)
                .where(items.c.registry_id == registry_id)
                .order_by(items.c.sku)
                .with_for_update()
            )
        }
        for i, line in enumerate(lines):
            if line["sku"] not in wanted:
                raise Unprocessable(
                    f"{line['sku']} is not on registry {registry_id}",
                    field=f"items[{i}].sku",
                    code="not_on_registry",
                )
        for line in sorted(lines, key=lambda x: str(x["sku"])):
            conn.execute(
                items.update()
                .where(items.c.registry_id == registry_id, items.c.sku == line["sku"])
                .values(purchased=items.c.purchased + line["quantity"])
            )
        response = {"registry_id": registry_id, "order_id": body.order_id, "items": lines}
        conn.execute(
            purchases.insert().values(
                order_id=body.order_id,
                registry_id=registry_id,
                items=json.dumps(lines),
                buyer_name=body.buyer_name,
                alert_state="pending",
                created_at=time.time(),
                response_body=json.dumps(response),
            )
        )
    ctx.extras["registry_gifts"].labels(reg.kind).inc()
    return 201, response


def _send_alert(ctx: ServiceContext, order_id: str) -> bool:
    """Enqueue one purchase's gift alert; True once notifications has accepted it."""
    with ctx.db.read() as conn:
        row = conn.execute(
            select(purchases, registries.c.kind, registries.c.title)
            .join(registries, registries.c.id == purchases.c.registry_id)
            .where(purchases.c.order_id == order_id)
        ).first()
    if row is None or row.alert_state != "pending":
        return False
    event_id = f"gift:{order_id}"
    message = {
        "event_id": event_id,
        "template": "gift_alert",
        "registry_id": row.registry_id,
        "data": {
            "registry_kind": row.kind,
            "registry_title": row.title,
            "buyer_name": row.buyer_name,
            "items": json.loads(row.items),
        },
    }
    try:
        ctx.dep("notifications").call(
            "POST", "/messages", json=message, headers={"Idempotency-Key": event_id}
        )
    except ShopsimError as exc:  # kept pending: retry_pending_alerts tries again
        log.warning("registry: gift alert for %s not enqueued: %s", order_id, exc.message)
        return False
    with ctx.db.write() as conn:
        conn.execute(
            purchases.update().where(purchases.c.order_id == order_id).values(alert_state="sent")
        )
    return True


def retry_pending_alerts(ctx: ServiceContext, limit: int = 100) -> int:
    """Enqueue the gift alerts still pending, oldest first; returns how many went through."""
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(purchases.c.order_id)
            .where(purchases.c.alert_state == "pending")
            .order_by(purchases.c.created_at)
            .limit(limit)
        ).fetchall()
    return sum(1 for row in rows if _send_alert(ctx, row.order_id))


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, gift metrics and the pending-alert retrier."""
    gifts = Counter(
        "shopsim_gift_purchases",
        "Gifts bought from a registry, by registry kind.",
        ["kind"],
        registry=ctx.metrics.registry,
    )
    for kind in REGISTRY_KINDS:
        gifts.labels(kind)
    ctx.extras["registry_gifts"] = gifts

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
