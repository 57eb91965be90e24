"""Going forward after a capture: commit the stock, confirm the order, run the followups.

Nothing after a capture is undone; a step that cannot finish leaves the attempt parked for
`recover`, which calls `complete` again (each step is idempotent).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from shopsim.errors import Conflict, NotFound
from shopsim.services.checkout import attempts, followups
from shopsim.services.checkout.attempts import DONE
from shopsim.services.checkout.tables import confirmed_body, lines_of, orders

if TYPE_CHECKING:
    from shopsim.services.checkout.saga import Saga

log = logging.getLogger("shopsim")


def complete(saga: Saga) -> tuple[int, Any]:
    """After a capture: commit the stock, confirm the order, run the followups."""
    saga.mark("commit")
    with saga.metrics.timed("commit"):
        _commit(saga)
    with saga.metrics.timed("confirm"):
        body = _confirm(saga)
    try:
        followups.run(saga.ctx, saga.oid)
    except Exception:  # the order is confirmed whatever happens here; recover retries them
        log.exception("checkout: followups of %s failed", saga.oid)
    return 201, body


def _commit(saga: Saga) -> None:
    inventory = saga.ctx.dep("inventory")
    rid = saga.reservation_id
    try:
        inventory.call(
            "POST", f"/reservations/{rid}/commit", headers={"Idempotency-Key": f"{rid}-commit"}
        )
        return
    except Conflict as err:
        if err.code not in ("reservation_expired", "reservation_released"):
            raise
        lapsed = err.code
    # The hold lapsed while the capture was in doubt. The customer has paid: hold stock anew.
    again = f"{saga.oid}-{saga.n}-again"
    with saga.ctx.db.read() as conn:
        lines = [{"sku": x["sku"], "quantity": x["quantity"]} for x in lines_of(conn, saga.oid)]
    try:
        inventory.call(
            "POST",
            "/reservations",
            json={"reservation_id": again, "items": lines},
            headers={"Idempotency-Key": again},
        )
        inventory.call(
            "POST", f"/reservations/{again}/commit", headers={"Idempotency-Key": f"{again}-c"}
        )
        saga.update_order(reservation_id=again)
    except (Conflict, NotFound) as err:  # sold out meanwhile: keep the sale, flag it
        log.error("checkout: %s paid but its stock could not be committed", saga.oid)
        saga.update_order(failure_reason=f"paid, stock not committed: {lapsed}, {err.code}")


def _confirm(saga: Saga) -> dict[str, Any]:
    now = time.time()
    with saga.ctx.db.write() as conn:
        order = conn.execute(select(orders).where(orders.c.id == saga.oid).with_for_update()).one()
        body = confirmed_body(conn, order)
        first = order.status != "confirmed"
        if first:
            conn.execute(
                orders.update()
                .where(orders.c.id == saga.oid)
                .values(status="confirmed", updated_at=now)
            )
            followups.queue(conn, order, now)
        attempts.settle(saga.ctx, saga.claim, DONE, "done", (201, body), conn=conn)
    if first:
        saga.metrics.count(201)
        saga.metrics.revenue.inc(order.total_cents / 100)
    return body
