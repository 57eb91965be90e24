"""Work owed after an order is confirmed; none of it can fail the order.

    confirmation   notifications POST /messages, event "order-confirmation:<order_id>"
    registry       registry POST /registries/<id>/purchases (a gift)
    clear_cart     cart POST /carts/<customer_id>/purchases: the bought lines leave the cart
                   (the order came from the cart; items added since stay)

Each is queued ``pending`` in the confirming transaction, tried at once, and retried by
`recover` until done. Every call is idempotent downstream (event id, order id), so a
followup done twice, say by a request and `recover` at the same moment, has one effect.
A followup refused on its merits (4xx) is ``failed`` with the reason: retrying cannot help.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import Connection, func, select

from shopsim.client import DependencyFailed
from shopsim.context import ServiceContext
from shopsim.errors import ShopsimError
from shopsim.services.checkout.tables import followups, lines_by_order, orders

log = logging.getLogger("shopsim")


def queue(conn: Connection, order: Any, now: float) -> None:
    """Queue an order's followups inside the transaction that confirms it."""
    kinds = ["confirmation"]
    if order.registry_id is not None:
        kinds.append("registry")
    if order.from_cart:
        kinds.append("clear_cart")
    conn.execute(
        followups.insert(),
        [
            {
                "order_id": order.id,
                "kind": kind,
                "state": "pending",
                "attempts": 0,
                "updated_at": now,
            }
            for kind in kinds
        ],
    )


def pending_count(ctx: ServiceContext) -> int:
    """Followups not done yet (the backlog gauge)."""
    with ctx.db.read() as conn:
        count = select(func.count()).select_from(followups)
        return int(conn.execute(count.where(followups.c.state == "pending")).scalar_one())


def run(ctx: ServiceContext, order_id: str | None = None, limit: int = 100) -> int:
    """Try pending followups (one order's, or the oldest of all); returns how many got done."""
    stmt = (
        select(followups.c.kind, orders)
        .join(orders, orders.c.id == followups.c.order_id)
        .where(followups.c.state == "pending")
        .order_by(followups.c.updated_at)
        .limit(limit)
    )
    if order_id is not None:
        stmt = stmt.where(followups.c.order_id == order_id)
    with ctx.db.read() as conn:
        rows = conn.execute(stmt).fetchall()
        by_order = lines_by_order(conn, sorted({row.id for row in rows}))
    todo = [(row, by_order[row.id]) for row in rows]
    done = 0
    for row, lines in todo:
        state, error = "done", None
        try:
            _perform(ctx, row.kind, row, lines)
        except DependencyFailed as exc:
            state, error = "pending", exc.message
        except ShopsimError as exc:
            state, error = "failed", f"{exc.status} {exc.code}: {exc.message}"
            log.error("checkout: %s followup of %s refused: %s", row.kind, row.id, error)
        with ctx.db.write() as conn:
            conn.execute(
                followups.update()
                .where(
                    (followups.c.order_id == row.id)
                    & (followups.c.kind == row.kind)
                    & (followups.c.state == "pending")
                )
                .values(
                    state=state,
                    attempts=followups.c.attempts + 1,
                    last_error=error[:500] if error else None,
                    updated_at=time.time(),
                )
            )
        done += state == "done"
    return done


def _perform(ctx: ServiceContext, kind: str, order: Any, lines: list[dict[str, Any]]) -> None:
    if kind == "confirmation":
        event_id = f"order-confirmation:{order.id}"
        message = {
            "event_id": event_id,
            "template": "order_confirmation",
            "recipient": {
                "customer_id": order.customer_id,
                "email": order.email,
                "name": order.name,
            },
            "data": {"order_id": order.id, "total_cents": order.total_cents, "items": lines},
        }
        ctx.dep("notifications").call(
            "POST", "/messages", json=message, headers={"Idempotency-Key": event_id}
        )
    elif kind == "registry":
        gift = {
            "order_id": order.id,
            "items": [{"sku": x["sku"], "quantity": x["quantity"]} for x in lines],
            "buyer_name": order.name,
        }
        ctx.dep("registry").call(
            "POST",
            f"/registries/{order.registry_id}/purchases",
            json=gift,
            headers={"Idempotency-Key": f"gift:{order.id}"},
        )
    elif kind == "clear_cart":
        bought = {
            "order_id": order.id,
            "items": [{"sku": x["sku"], "quantity": x["quantity"]} for x in lines],
        }
        ctx.dep("cart").call(
            "POST",
            f"/carts/{order.customer_id}/purchases",
            json=bought,
            headers={"Idempotency-Key": f"cart:{order.id}"},
        )
