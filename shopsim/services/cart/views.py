"""cart's routes: one cart per customer, a line per SKU, SKUs checked against the catalog.

GET    /carts/<customer_id>               the cart (no cart yet: no items)
POST   /carts/<customer_id>/items         {"sku", "quantity"} adds to the line
PUT    /carts/<customer_id>/items/<sku>   {"quantity"} sets the line
DELETE /carts/<customer_id>/items/<sku>   removes the line (404 when not in the cart)
DELETE /carts/<customer_id>               empties the cart (idempotent)
POST   /carts/<customer_id>/purchases     {"order_id", "items"} takes the bought quantities out,
                                          once per order

Checkout takes bought items out with /purchases rather than emptying the cart: a late or
repeated request then cannot wipe what the customer added after paying.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import Field, StringConstraints
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from shopsim.context import ServiceContext, current
from shopsim.errors import Conflict, NotFound
from shopsim.services.cart import state
from shopsim.services.cart.tables import MAX_LINES, lines, purchases
from shopsim.validation import CustomerId, Model, Quantity, Sku, parse_body, parse_model

MAX_LINE_QUANTITY = 99


class CustomerPath(Model):
    customer_id: CustomerId


class SkuPath(Model):
    sku: Sku


class AddItem(Model):
    sku: Sku
    quantity: Quantity


class SetItem(Model):
    quantity: Quantity


class Purchase(Model):
    order_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    items: Annotated[list[AddItem], Field(min_length=1, max_length=MAX_LINES)]


def _customer(customer_id: int) -> int:
    # Flask's int converter takes 0 and numbers too big for the column: refuse them by name.
    return parse_model(CustomerPath, {"customer_id": customer_id}).customer_id


def _sku(sku: str) -> str:
    # Checked before it becomes part of a URL to the catalog.
    return parse_model(SkuPath, {"sku": sku}).sku


def _check_product(ctx: ServiceContext, sku: str) -> None:
    """Ask the catalog whether the SKU exists; a 404 names the field "sku"."""
    try:
        ctx.dep("catalog").call("GET", f"/products/{sku}")
    except NotFound as exc:
        raise NotFound(f"no product with SKU {sku!r}", field="sku") from exc


#: Built once, bound per call: building a statement costs about as much as running it.
_CART = (
    select(lines.c.sku, lines.c.quantity)
    .where(lines.c.customer_id == bindparam("customer_id"))
    .order_by(lines.c.sku)
)
_LINE = (
    select(lines.c.quantity)
    .where(lines.c.customer_id == bindparam("customer_id"), lines.c.sku == bindparam("sku"))
    .with_for_update()
)


def _cart(conn: Connection, customer_id: int) -> dict[str, Any]:
    rows = conn.execute(_CART, {"customer_id": customer_id}).all()
    items = [{"sku": r.sku, "quantity": r.quantity} for r in rows]
    return {"customer_id": customer_id, "items": items}


def _line(conn: Connection, customer_id: int, sku: str) -> int | None:
    """The line's quantity, row-locked on PostgreSQL, or None when the SKU is not in the cart."""
    return conn.execute(_LINE, {"customer_id": customer_id, "sku": sku}).scalar_one_or_none()


def _insert_line(conn: Connection, customer_id: int, sku: str, quantity: int) -> None:
    """Add a new line if the cart has room for one more."""
    # Locking the existing lines makes concurrent new lines of one cart take turns on
    # PostgreSQL; the count is a new statement, so it sees whatever the previous turn added.
    conn.execute(select(lines.c.sku).where(lines.c.customer_id == customer_id).with_for_update())
    count = conn.execute(
        select(func.count()).select_from(lines).where(lines.c.customer_id == customer_id)
    ).scalar_one()
    if count >= MAX_LINES:
        raise Conflict(
            f"a cart holds at most {MAX_LINES} different products",
            field="sku",
            code="cart_full",
            extra={"max_lines": MAX_LINES},
        )
    conn.execute(
        lines.insert().values(
            customer_id=customer_id, sku=sku, quantity=quantity, updated_at=time.time()
        )
    )


def _update_line(conn: Connection, customer_id: int, sku: str, quantity: int) -> None:
    conn.execute(
        lines.update()
        .where(lines.c.customer_id == customer_id, lines.c.sku == sku)
        .values(quantity=quantity, updated_at=time.time())
    )


def _write(
    ctx: ServiceContext, operation: str, customer_id: int, change: Callable[[Connection], None]
) -> dict[str, Any]:
    """Apply `change` in one transaction and return the cart as it then is."""
    for attempt in range(2):
        try:
            with ctx.db.write() as conn:
                change(conn)
                cart = _cart(conn, customer_id)
            break
        except IntegrityError:
            # Two first adds of one line raced (PostgreSQL); the retry sees the winner's row.
            if attempt:
                raise
    state.of(ctx).operations[operation].inc()
    return cart


bp = Blueprint("cart", __name__)


@bp.get("/carts/<int:customer_id>")
def get_cart(customer_id: int) -> Response:
    """The customer's cart."""
    customer_id = _customer(customer_id)
    with current().db.read() as conn:
        return jsonify(_cart(conn, customer_id))


@bp.post("/carts/<int:customer_id>/items")
def add_item(customer_id: int) -> Response:
    """Add a quantity of a product to the cart."""
    customer_id = _customer(customer_id)
    body = parse_body(request, AddItem)
    ctx = current()
    _check_product(ctx, body.sku)

    def change(conn: Connection) -> None:
        held = _line(conn, customer_id, body.sku)
        if held is None:
            _insert_line(conn, customer_id, body.sku, body.quantity)
            return
        if held + body.quantity > MAX_LINE_QUANTITY:
            # The request is well formed; what is already in the cart refuses it: a conflict.
            raise Conflict(
                f"a line holds at most {MAX_LINE_QUANTITY}; the cart already has {held}",
                field="quantity",
                code="line_full",
                extra={"in_cart": held, "max_quantity": MAX_LINE_QUANTITY},
            )
        _update_line(conn, customer_id, body.sku, held + body.quantity)

    return jsonify(_write(ctx, "add", customer_id, change))


@bp.put("/carts/<int:customer_id>/items/<sku>")
def set_item(customer_id: int, sku: str) -> Response:
    """Set the quantity of a line, adding it if needed."""
    customer_id, sku = _customer(customer_id), _sku(sku)
    body = parse_body(request, SetItem)
    ctx = current()
    _check_product(ctx, sku)

    def change(conn: Connection) -> None:
        if _line(conn, customer_id, sku) is None:
            _insert_line(conn, customer_id, sku, body.quantity)
        else:
            _update_line(conn, customer_id, sku, body.quantity)

    return jsonify(_write(ctx, "set", customer_id, change))


@bp.delete("/carts/<int:customer_id>/items/<sku>")
def remove_item(customer_id: int, sku: str) -> Response:
    """Remove a line from the cart."""
    customer_id, sku = _customer(customer_id), _sku(sku)

    def change(conn: Connection) -> None:
        gone = conn.execute(
            lines.delete().where(lines.c.customer_id == customer_id, lines.c.sku == sku)
        )
        if gone.rowcount == 0:
            raise NotFound(f"{sku!r} is not in the cart", field="sku")

    return jsonify(_write(current(), "remove", customer_id, change))


@bp.delete("/carts/<int:customer_id>")
def clear_cart(customer_id: int) -> Response:
    """Empty the cart; an empty or unknown cart is fine."""
    customer_id = _customer(customer_id)

    def change(conn: Connection) -> None:
        conn.execute(lines.delete().where(lines.c.customer_id == customer_id))

    return jsonify(_write(current(), "clear", customer_id, change))


@bp.post("/carts/<int:customer_id>/purchases")
def take_purchase(customer_id: int) -> Response:
    """Take an order's items out of the cart, once per order_id; lines never go below zero."""
    customer_id = _customer(customer_id)
    body = parse_body(request, Purchase)

    def change(conn: Connection) -> None:
        seen = select(purchases.c.order_id).where(purchases.c.order_id == body.order_id)
        if conn.execute(seen.with_for_update()).first() is not None:
            return  # applied before: a retry or a late duplicate changes nothing
        conn.execute(
            purchases.insert().values(
                order_id=body.order_id, customer_id=customer_id, applied_at=time.time()
            )
        )
        for item in body.items:
            held = _line(conn, customer_id, item.sku)
            if held is None:
                continue
            if held <= item.quantity:
                conn.execute(
                    lines.delete().where(
                        lines.c.customer_id == customer_id, lines.c.sku == item.sku
                    )
                )
            else:
                _update_line(conn, customer_id, item.sku, held - item.quantity)

    return jsonify(_write(current(), "purchase", customer_id, change))
