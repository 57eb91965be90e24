"""Order and charge persistence: plain functions of the checkout tables.

An order row says where an order's money and stock are (reservation, authorization, whether it
was captured and under which charge); `recover` reads it to tell what an attempt left behind.
Functions taking a `Connection` run inside the caller's transaction, so a row and the attempt's
step can change together; the others open a transaction of their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select

from shopsim.db import Database
from shopsim.services.checkout.tables import order_items, orders


@dataclass(frozen=True)
class Draft:
    """What an order row is written from: who buys what, at what price, in which attempt."""

    order_id: str
    attempt_no: int
    customer_id: int
    email: str
    name: str
    registry_id: int | None
    from_cart: bool
    lines: list[dict[str, Any]]  # priced: sku, quantity, price_cents

    @property
    def total_cents(self) -> int:
        """What the order costs."""
        return sum(line["quantity"] * line["price_cents"] for line in self.lines)


def write_order(
    conn: Connection,
    draft: Draft,
    *,
    status: str,
    reason: str | None,
    reservation_id: str | None,
    authorization_id: str | None,
) -> None:
    """Insert or overwrite the key's order row and its lines (an earlier attempt's is reused)."""
    now = time.time()
    values = {
        "customer_id": draft.customer_id,
        "status": status,
        "total_cents": draft.total_cents,
        "registry_id": draft.registry_id,
        "attempt_no": draft.attempt_no,
        "reservation_id": reservation_id,
        "authorization_id": authorization_id,
        "captured": False,
        "charge_id": None,
        "from_cart": draft.from_cart,
        "email": draft.email,
        "name": draft.name,
        "failure_reason": reason,
        "updated_at": now,
    }
    oid = draft.order_id
    found = conn.execute(
        select(orders.c.status).where(orders.c.id == oid).with_for_update()
    ).first()
    if found is None:
        conn.execute(orders.insert().values(id=oid, created_at=now, **values))
    elif found.status == "confirmed":  # the attempt row would be done: a bug, stop here
        raise RuntimeError(f"order {oid} is already confirmed")
    else:
        conn.execute(orders.update().where(orders.c.id == oid).values(**values))
    conn.execute(order_items.delete().where(order_items.c.order_id == oid))
    conn.execute(
        order_items.insert(),
        [{"order_id": oid} | line for line in sorted(draft.lines, key=_sku)],
    )


def update_order(db: Database, order_id: str, **values: Any) -> None:
    """Change some fields of an order row."""
    with db.write() as conn:
        conn.execute(
            orders.update().where(orders.c.id == order_id).values(updated_at=time.time(), **values)
        )


def record_charge(
    db: Database, order_id: str, authorization_id: str | None, charge_id: str | None
) -> None:
    """The order's money was captured, from this authorization: from now on it is never undone."""
    update_order(
        db, order_id, authorization_id=authorization_id, captured=True, charge_id=charge_id
    )


def read_order(db: Database, order_id: str) -> Row[Any] | None:
    """An order row, or None when no attempt got as far as writing it."""
    with db.read() as conn:
        return conn.execute(select(orders).where(orders.c.id == order_id)).first()


def confirm_order(conn: Connection, order_id: str, now: float) -> tuple[Row[Any], bool]:
    """Lock the order row and mark it confirmed: the row as it was, and whether this did it."""
    order = conn.execute(select(orders).where(orders.c.id == order_id).with_for_update()).one()
    first = order.status != "confirmed"
    if first:
        conn.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(status="confirmed", updated_at=now)
        )
    return order, first


def _sku(line: dict[str, Any]) -> str:
    return str(line["sku"])
