"""registry's routes: gift registries and the gifts bought from them.

GET  /registries?q=&kind=&owner_customer_id=&limit=   search by title or owner name
GET  /registries/<id>                                 one registry with its wished items
POST /registries/<id>/purchases                       record a gift (idempotent by order_id)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shopsim.context import current
from shopsim.services.registry.alerts import send_alert
from shopsim.services.registry.gifts import record_purchase
from shopsim.services.registry.tables import find_registry, items, registries, summary
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
def search() -> Response:
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
def get_registry(registry_id: int) -> Response:
    """One registry with what is wanted and what was bought so far."""
    with current().db.read() as conn:
        row = find_registry(conn, registry_id)
        lines = conn.execute(
            select(items).where(items.c.registry_id == registry_id).order_by(items.c.sku)
        ).fetchall()
    wanted = [{"sku": r.sku, "wanted": r.wanted, "purchased": r.purchased} for r in lines]
    return jsonify(summary(row) | {"items": wanted})


@bp.post("/registries/<int:registry_id>/purchases")
def purchase(registry_id: int) -> tuple[Response, int]:
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
