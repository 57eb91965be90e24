"""Going forward after a capture: commit the stock, confirm the order, run the followups.

Nothing after a capture is undone; a step that cannot finish raises, the saga parks the attempt
and `recover` resumes it, which comes here again (each step is idempotent).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from shopsim.errors import Conflict, NotFound
from shopsim.services.checkout import attempts, followups, records
from shopsim.services.checkout.attempts import DONE, Claim
from shopsim.services.checkout.state import CheckoutState
from shopsim.services.checkout.tables import confirmed_body, lines_of

log = logging.getLogger("shopsim")


def complete(checkout: CheckoutState, claim: Claim, reservation_id: str | None) -> tuple[int, Any]:
    """Steps 7 and 8: commit the stock, confirm the order, run the followups; the 201 answer."""
    with checkout.metrics.timed("commit"):
        _commit(checkout, claim, reservation_id)
    with checkout.metrics.timed("confirm"):
        body = _confirm(checkout, claim)
    try:
        followups.run(checkout.ctx, claim.order_id)
    except Exception:  # the order is confirmed whatever happens here; recover retries them
        log.exception("checkout: followups of %s failed", claim.order_id)
    return 201, body


def _commit(checkout: CheckoutState, claim: Claim, reservation_id: str | None) -> None:
    ctx, oid = checkout.ctx, claim.order_id
    inventory = ctx.dep("inventory")
    try:
        inventory.call(
            "POST",
            f"/reservations/{reservation_id}/commit",
            headers={"Idempotency-Key": f"{reservation_id}-commit"},
        )
        return
    except Conflict as err:
        if err.code not in ("reservation_expired", "reservation_released"):
            raise
        lapsed = err.code
    # The hold lapsed while the capture was in doubt. The customer has paid: hold stock anew.
    again = f"{oid}-{claim.attempt_no}-again"
    with ctx.db.read() as conn:
        lines = [{"sku": x["sku"], "quantity": x["quantity"]} for x in lines_of(conn, oid)]
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
        records.update_order(ctx.db, oid, reservation_id=again)
    except (Conflict, NotFound) as err:  # sold out meanwhile: keep the sale, flag it
        log.error("checkout: %s paid but its stock could not be committed", oid)
        reason = f"paid, stock not committed: {lapsed}, {err.code}"
        records.update_order(ctx.db, oid, failure_reason=reason)


def _confirm(checkout: CheckoutState, claim: Claim) -> dict[str, Any]:
    now = time.time()
    with checkout.ctx.db.write() as conn:
        order, first = records.confirm_order(conn, claim.order_id, now)
        body = confirmed_body(conn, order)
        if first:
            followups.queue(conn, order, now)
        attempts.settle(checkout.ctx, claim, DONE, "done", (201, body), conn=conn)
    if first:
        checkout.metrics.count(201)
        checkout.metrics.revenue.inc(order.total_cents / 100)
    return body
