"""Tying up what checkouts left half-done: `recover(ctx)`, every 2 s (tests call it directly).

1. Attempts in ``needs_recovery``, or ``running`` but orphaned (their process stopped beating
   `leases.LEASE_S` ago: it died), are taken over one at a time and resolved from their order row:
   - captured (recorded, or a void now answers ``already_captured``): go forward, commit and
     confirm; the order ends confirmed and the attempt done with its 201.
   - otherwise: void, release, order failed; the attempt becomes ``done`` when it already owes
     its caller a final answer (a decline whose release had failed, say), else ``retryable``.
   - payment or inventory still cannot answer: back to ``needs_recovery`` for the next round.
2. Pending followups are tried again.

A client retry that finds its key in ``needs_recovery``, or orphaned, resolves it the same way
first, so a checkout killed mid-saga is finished by the first retry once its lease has run out.
Known gap: a process that dies between the authorization's answer and the order row (step 5)
leaves that authorization unknown here; it is never captured (captures only use recorded ids),
so it moves no money and lapses at the gateway.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from shopsim.context import ServiceContext
from shopsim.errors import Unavailable
from shopsim.services.checkout import attempts, compensation, completion, followups, leases
from shopsim.services.checkout.attempts import DONE, RETRYABLE, Claim
from shopsim.services.checkout.saga import Saga
from shopsim.services.checkout.tables import orders

log = logging.getLogger("shopsim")


def resolve(ctx: ServiceContext, claim: Claim) -> None:
    """Settle an owned attempt left half-done; raises 503 while a dependency still cannot say."""
    saga = Saga(ctx, claim)
    with ctx.db.read() as conn:
        order = conn.execute(select(orders).where(orders.c.id == claim.order_id)).first()
    try:
        if order is None:
            if claim.step in ("reserve", "authorize"):  # died before writing the order row
                saga.reservation_id = f"{claim.order_id}-{claim.attempt_no}"
        else:
            saga.reservation_id = order.reservation_id
            saga.authorization_id = order.authorization_id
            saga.captured = bool(order.captured) or order.status == "confirmed"
        if not saga.captured and saga.authorization_id and compensation.void(saga) == "captured":
            saga.captured = True
            saga.update_order(captured=True, charge_id=saga.find_charge(), failure_reason=None)
        if saga.captured:
            completion.complete(saga)
            return
        if not compensation.undo(saga):
            raise Unavailable(
                f"checkout {claim.order_id}: the hold or authorization is not released yet",
                code="dependency_failed",
            )
        if order is not None and order.status != "failed":
            saga.update_order(status="failed", failure_reason="recovered: payment voided")
        owed = attempts.stored_response(ctx, claim)
        attempts.settle(ctx, claim, DONE if owed else RETRYABLE, "failed")
    except Exception as exc:
        compensation.park(saga, exc)


def recover(ctx: ServiceContext, limit: int = 50) -> int:
    """Resolve unresolved attempts, then retry pending followups; returns how many finished."""
    started = time.time()
    finished = 0
    for _ in range(limit):
        claim = attempts.take_next(ctx, started)
        if claim is None:
            break
        try:
            with leases.of(ctx).holding(claim):
                resolve(ctx, claim)
            finished += 1
        except Exception as exc:  # parked again by resolve: the next round tries again
            log.warning("checkout: %s still unresolved: %s", claim.order_id, exc)
    return finished + followups.run(ctx)
