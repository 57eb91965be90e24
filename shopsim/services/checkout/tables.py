"""checkout's tables, and the one way an order is read back (for GET /orders and for replies).

checkout_attempts    one row per (customer_id, idempotency_key): the claim on the key, which
                     saga attempt runs, the step it reached and the stored final response
checkout_orders      one row per order_id (one per key): where the money and stock are
checkout_order_items the priced lines of an order
checkout_followups   work owed after confirmation: confirmation mail, registry, clear cart
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

metadata = MetaData()
attempts = Table(
    "checkout_attempts",
    metadata,
    Column("customer_id", Integer, primary_key=True, autoincrement=False),
    Column("idempotency_key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("attempt_no", Integer, nullable=False),
    Column("state", String(20), nullable=False, index=True),
    Column("step", String(20), nullable=False),
    Column("order_id", String(24), nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
orders = Table(
    "checkout_orders",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("customer_id", Integer, nullable=False, index=True),
    Column("status", String(20), nullable=False),  # pending|confirmed|failed|capture_unknown
    Column("total_cents", Integer, nullable=False),
    Column("registry_id", Integer),
    Column("attempt_no", Integer, nullable=False),
    Column("reservation_id", String(64)),
    Column("authorization_id", String(64)),
    Column("captured", Boolean, nullable=False, default=False),  # known captured: never undo
    Column("charge_id", String(64)),
    Column("from_cart", Boolean, nullable=False),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("failure_reason", String(500)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
order_items = Table(
    "checkout_order_items",
    metadata,
    Column("order_id", String(24), primary_key=True),
    Column("sku", String(32), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("price_cents", Integer, nullable=False),
)
followups = Table(
    "checkout_followups",
    metadata,
    Column("order_id", String(24), primary_key=True),
    Column("kind", String(20), primary_key=True),  # confirmation | registry | clear_cart
    Column("state", String(10), nullable=False, index=True),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(500)),
    Column("updated_at", Float, nullable=False),
)


def lines_by_order(conn: Connection, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The lines of several orders in one query, each order's by SKU."""
    rows = conn.execute(
        select(order_items)
        .where(order_items.c.order_id.in_(order_ids))
        .order_by(order_items.c.order_id, order_items.c.sku)
    ).fetchall()
    out: dict[str, list[dict[str, Any]]] = {order_id: [] for order_id in order_ids}
    for r in rows:
        out[r.order_id].append({"sku": r.sku, "quantity": r.quantity, "price_cents": r.price_cents})
    return out


def lines_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """An order's lines, by SKU."""
    return lines_by_order(conn, [order_id])[order_id]


def confirmed_body(conn: Connection, order: Any) -> dict[str, Any]:
    """The 201 body of POST /checkouts for a confirmed order."""
    return {
        "order_id": order.id,
        "status": "confirmed",
        "total_cents": order.total_cents,
        "items": lines_of(conn, order.id),
        "registry_id": order.registry_id,
    }


def order_views(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    """What GET /orders shows of orders: enough to audit where their money and stock went."""
    lines = lines_by_order(conn, [order.id for order in rows])
    return [
        {
            "order_id": order.id,
            "customer_id": order.customer_id,
            "status": order.status,
            "total_cents": order.total_cents,
            "items": lines[order.id],
            "registry_id": order.registry_id,
            "reservation_id": order.reservation_id,
            "authorization_id": order.authorization_id,
            "charge_id": order.charge_id,
            "failure_reason": order.failure_reason,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
        }
        for order in rows
    ]
