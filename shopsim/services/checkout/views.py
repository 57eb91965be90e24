"""checkout's routes: place an order once per idempotency key, and read orders back.

    POST /checkouts                     place an order (from the cart, or the given items)
    GET  /orders/<order_id>             one order: status, lines, reservation, authorization
    GET  /orders?customer_id=&limit=    a customer's orders, newest first

A client retry never creates a second order or a second charge: the key fixes the order id, a
final answer is replayed, and a retry after a 503 runs only once the last attempt was undone.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import Field, StringConstraints
from sqlalchemy import select

from shopsim.context import current
from shopsim.errors import NotFound, Unavailable
from shopsim.services.checkout import attempts, state
from shopsim.services.checkout.attempts import Stored
from shopsim.services.checkout.saga import Request, Saga
from shopsim.services.checkout.state import CheckoutState
from shopsim.services.checkout.tables import order_views, orders
from shopsim.validation import (
    CustomerId,
    IdempotencyKey,
    Line,
    Model,
    Query,
    ShortText,
    distinct_skus,
    parse_body,
    parse_query,
)

CardToken = Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9_-]{1,100}$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
RegistryId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class CheckoutRequest(Model):
    customer_id: CustomerId
    idempotency_key: IdempotencyKey
    card_token: CardToken
    email: Email
    name: ShortText
    items: Annotated[list[Line], Field(max_length=50)] | None = None
    registry_id: RegistryId | None = None


class OrdersQuery(Query):
    customer_id: CustomerId | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


bp = Blueprint("checkout", __name__)


def _checkout() -> CheckoutState:
    """The state of the checkout app serving this request."""
    return state.of(current())


@bp.post("/checkouts")
def create_checkout() -> Response:
    """Run the saga once per key: a retry replays, waits (409) or runs a fresh attempt."""
    body = parse_body(request, CheckoutRequest)
    distinct_skus(body.items or [])
    checkout = _checkout()
    asked = body.model_dump(mode="json", exclude={"idempotency_key"})
    digest = attempts.request_hash(asked)
    # Two rounds at most: the first may only resolve what an earlier attempt left half-done.
    for _ in range(2):
        claim = attempts.claim(checkout.ctx, body.customer_id, body.idempotency_key, digest)
        if isinstance(claim, Stored):
            return _reply(claim.status, claim.body, replayed=True)
        with checkout.leases.holding(claim):
            saga = Saga(checkout, claim)
            if claim.resume:
                saga.resume()
                continue
            req = Request(
                customer_id=body.customer_id,
                card_token=body.card_token,
                email=body.email,
                name=body.name,
                items=asked["items"],
                registry_id=body.registry_id,
            )
            status, answer = saga.run(req)
        return _reply(status, answer, replayed=False)
    raise Unavailable(  # another request parked the key again meanwhile
        "this checkout is being recovered; retry shortly",
        code="checkout_incomplete",
        headers={"Retry-After": "1"},
    )


def _reply(status: int, body: Any, *, replayed: bool) -> Response:
    response = jsonify(body)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    """One order, with where its money and stock are."""
    with _checkout().ctx.db.read() as conn:
        found = select(orders).where(orders.c.id == order_id)
        row = conn.execute(found).first() if len(order_id) <= 64 else None
        if row is None:
            raise NotFound(f"no order {order_id!r}", field="order_id")
        return jsonify(order_views(conn, [row])[0])


@bp.get("/orders")
def list_orders() -> Response:
    """Orders, newest first, optionally one customer's."""
    query = parse_query(request.args, OrdersQuery)
    stmt = select(orders).order_by(orders.c.created_at.desc(), orders.c.id).limit(query.limit)
    if query.customer_id is not None:
        stmt = stmt.where(orders.c.customer_id == query.customer_id)
    with _checkout().ctx.db.read() as conn:
        rows = conn.execute(stmt).fetchall()
        return jsonify({"orders": order_views(conn, list(rows))})
