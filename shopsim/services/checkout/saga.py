"""The checkout saga: one attempt of one order, from the cart to the payment and back.

Attempt n of order o (o is fixed by the idempotency key, n by the claim on it)::

    1 cart          cart GET (or the given items); registry GET for a gift     `basket`
    2 price         catalog POST /prices                                       `basket`
    3 reserve       inventory POST /reservations          reservation o-n      here
    4 authorize     payment POST /authorizations          key o-n-authorize    `payment`
    5 create_order  order row "pending" with its lines, reservation and authorization ids
    6 capture       payment POST /authorizations/<a>/capture   key o-n-capture `payment`
    7 commit        inventory POST /reservations/o-n/commit                    `completion`
    8 confirm       order "confirmed" + attempt done (its 201 stored) + followups queued: one
                    transaction; then the followups run (failures there never fail the order)

The attempt row records the step before 3, 4 and 7, so an audit (or `Saga.resume`) knows what
may exist downstream. A failure before the capture is undone newest first (`compensation`: void
the authorization, release the reservation), order "failed" (written then if step 5 was not
reached). Once a capture is known nothing is undone: the saga only goes forward, and if it
cannot, the attempt waits in needs_recovery. An ambiguous capture is settled by voiding; when
even the void gets no answer the order is "capture_unknown" until `recover` settles it.
Steps 4-6 have one fault switch point, `duplicate_charge.fires`: while it fires they run
`duplicate_charge.pay`, the known-bad variant without idempotency keys; all else is the same.

Only the saga changes what it holds (reservation, authorization, whether the money moved): the
step modules take explicit inputs and return what happened, and the rows are written through
`records`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shopsim.client import Dependency
from shopsim.errors import ShopsimError, Unavailable
from shopsim.services.checkout import (
    attempts,
    basket,
    compensation,
    completion,
    duplicate_charge,
    payment,
    records,
)
from shopsim.services.checkout.attempts import DONE, NEEDS_RECOVERY, RETRYABLE, RUNNING, Claim
from shopsim.services.checkout.state import CheckoutState

log = logging.getLogger("shopsim")
FINAL_STATUSES = frozenset({402, 404, 409, 422})  # the request's own fault: a retry gets the same


@dataclass(frozen=True)
class Request:
    """What POST /checkouts asks for, minus the key."""

    customer_id: int
    card_token: str
    email: str
    name: str
    items: list[dict[str, Any]] | None
    registry_id: int | None


class Saga:
    """One owned attempt of one order: `run` it from the top, or `resume` what one left."""

    def __init__(self, checkout: CheckoutState, claim: Claim) -> None:
        self.checkout, self.claim = checkout, claim
        self.ctx, self.metrics = checkout.ctx, checkout.metrics
        self.oid, self.n, self.step = claim.order_id, claim.attempt_no, claim.step
        self.draft: records.Draft | None = None  # the order row's contents, once priced
        self.reservation_id: str | None = None  # set once a reservation may exist
        self.authorization_id: str | None = None
        self.voided = self.captured = self.capture_unknown = False

    def run(self, req: Request) -> tuple[int, Any]:
        """Attempt n from the top: the final answer, or raises 503 (retryable) after undoing."""
        try:
            return self._forward(req)
        except Exception as exc:  # every failure is settled (undone or parked) before it leaves
            return self._fail(exc)

    def _forward(self, req: Request) -> tuple[int, Any]:
        ctx = self.ctx
        with self.metrics.timed("cart"):
            lines, from_cart = basket.lines(
                ctx.dep("cart"), ctx.dep("registry"), req.customer_id, req.items, req.registry_id
            )
        with self.metrics.timed("price"):
            price_key = {"Idempotency-Key": f"{self.oid}-{self.n}-price"}
            priced = basket.price(ctx.dep("catalog"), lines, price_key)
        self.draft = records.Draft(
            order_id=self.oid,
            attempt_no=self.n,
            customer_id=req.customer_id,
            email=req.email,
            name=req.name,
            registry_id=req.registry_id,
            from_cart=from_cart,
            lines=priced,
        )
        self._reserve(lines)
        self._mark("authorize")
        gateway, total = ctx.dep("payment"), self.draft.total_cents
        if duplicate_charge.fires(ctx):  # the fault's known-bad variant of steps 4-6
            duplicate_charge.pay(gateway, self.metrics, self, self.oid, total, req.card_token)
        else:
            self._pay(gateway, total, req.card_token)
        return self._complete()

    def _reserve(self, lines: list[dict[str, Any]]) -> None:
        """Step 3: hold the stock, all lines or none."""
        self._mark("reserve")
        rid = self.reservation_id = f"{self.oid}-{self.n}"
        with self.metrics.timed("reserve"):
            try:
                self.ctx.dep("inventory").call(
                    "POST",
                    "/reservations",
                    json={"reservation_id": rid, "items": lines},
                    headers={"Idempotency-Key": rid},
                )
            except ShopsimError as err:
                if err.status != 503:  # refused outright; all or nothing, so nothing is held
                    self.reservation_id = None
                raise

    def _pay(self, gateway: Dependency, total_cents: int, card_token: str) -> None:
        """Steps 4-6 the correct way: authorize, write the order, capture, under the keys."""
        with self.metrics.timed("authorize"):
            auth = payment.authorize(gateway, self.oid, self.n, total_cents, card_token)
        self.record_authorization(auth)
        with self.metrics.timed("capture"):
            captured = payment.capture(gateway, self.oid, self.n, auth)
            if captured.error is not None:
                self.voided = captured.voided
                if captured.unknown:  # no answer either way: `recover` settles it later
                    self.capture_unknown = True
                    reason = captured.error.message
                    records.update_order(
                        self.ctx.db, self.oid, status="capture_unknown", failure_reason=reason
                    )
                raise captured.error
            self.record_capture(auth, captured.charge_id)

    def record_authorization(self, authorization_id: str) -> None:
        """The order follows this authorization: step 5 writes its row "pending" the first time."""
        first = self.authorization_id is None
        self.authorization_id = authorization_id
        if not first:
            records.update_order(self.ctx.db, self.oid, authorization_id=authorization_id)
            return
        assert self.draft is not None  # priced before anything is authorized
        with self.metrics.timed("create_order"), self.ctx.db.write() as conn:
            records.write_order(
                conn,
                self.draft,
                status="pending",
                reason=None,
                reservation_id=self.reservation_id,
                authorization_id=authorization_id,
            )
            attempts.settle(self.ctx, self.claim, RUNNING, "capture", conn=conn)
        self.step = "capture"

    def record_capture(self, authorization_id: str, charge_id: str | None) -> None:
        """The money was captured from this authorization: from here the saga only goes forward."""
        self.captured = True
        self.authorization_id = authorization_id
        if charge_id is None:  # the answer was lost; the ledger knows
            charge_id = payment.find_charge(self.ctx.dep("payment"), self.oid, authorization_id)
        records.record_charge(self.ctx.db, self.oid, authorization_id, charge_id)

    def _complete(self) -> tuple[int, Any]:
        self._mark("commit")
        return completion.complete(self.checkout, self.claim, self.reservation_id)

    def _fail(self, exc: Exception) -> tuple[int, Any]:
        err = exc if isinstance(exc, ShopsimError) else None
        self.metrics.count(err.status if err else 500, err.code if err else "")
        if self.captured or self.capture_unknown:
            compensation.park(self.ctx, self.claim, self.step, exc)
        final = (err.status, err.body()) if err and err.status in FINAL_STATUSES else None
        touched = self.reservation_id or self.authorization_id or self.captured
        if final and not touched and not self.capture_unknown:
            # Refused before anything was held or charged (empty cart, unknown SKU, not on the
            # registry, out of stock): the request leaves no trace and the key stays unspent.
            attempts.withdraw(self.ctx, self.claim)
            return final
        reason = f"{err.code}: {err.message}" if err else f"internal: {type(exc).__name__}"
        clean = True
        if self.reservation_id or self.authorization_id:
            self._mark("compensate")
            clean = self._undo()
            if self.captured:  # the void found a capture after all: finish it later, not undo
                records.update_order(self.ctx.db, self.oid, captured=True)
                compensation.park(self.ctx, self.claim, self.step, exc)
            assert self.draft is not None  # priced before anything was held
            with self.ctx.db.write() as conn:
                records.write_order(
                    conn,
                    self.draft,
                    status="failed",
                    reason=reason[:500],
                    reservation_id=self.reservation_id,
                    authorization_id=self.authorization_id,
                )
        if not clean:
            attempts.settle(self.ctx, self.claim, NEEDS_RECOVERY, "compensate", final)
        elif final:
            attempts.settle(self.ctx, self.claim, DONE, "failed", final)
        else:
            attempts.settle(self.ctx, self.claim, RETRYABLE, "failed")
        if final:
            return final
        raise exc

    def resume(self) -> None:
        """Settle what an earlier attempt of this key left half-done: finish it, or undo it.

        Its order row says what may exist: when the money moved the saga goes forward, else it
        voids and releases. Raises 503 (the attempt parked again) while a dependency cannot say.
        """
        order = records.read_order(self.ctx.db, self.oid)
        try:
            if order is None:
                if self.step in ("reserve", "authorize"):  # died before writing the order row
                    self.reservation_id = f"{self.oid}-{self.n}"
            else:
                self.reservation_id = order.reservation_id
                self.authorization_id = order.authorization_id
                self.captured = bool(order.captured) or order.status == "confirmed"
            if not self.captured and self.authorization_id:
                gateway = self.ctx.dep("payment")
                verdict = payment.void(gateway, self.oid, self.n, self.authorization_id)
                self.voided = verdict == "voided"
                if verdict == "captured":
                    self.captured = True
                    charge_id = payment.find_charge(gateway, self.oid, self.authorization_id)
                    records.update_order(
                        self.ctx.db,
                        self.oid,
                        captured=True,
                        charge_id=charge_id,
                        failure_reason=None,
                    )
            if self.captured:
                self._complete()
                return
            if not self._undo():
                raise Unavailable(
                    f"checkout {self.oid}: the hold or authorization is not released yet",
                    code="dependency_failed",
                )
            if order is not None and order.status != "failed":
                records.update_order(
                    self.ctx.db,
                    self.oid,
                    status="failed",
                    failure_reason="recovered: payment voided",
                )
            owed = attempts.stored_response(self.ctx, self.claim)
            attempts.settle(self.ctx, self.claim, DONE if owed else RETRYABLE, "failed")
        except Exception as exc:
            compensation.park(self.ctx, self.claim, self.step, exc)

    def _undo(self) -> bool:
        """Compensate what this attempt holds; True when nothing is left outstanding."""
        undone = compensation.undo(
            self.ctx.dep("payment"),
            self.ctx.dep("inventory"),
            order_id=self.oid,
            attempt_no=self.n,
            authorization_id=self.authorization_id,
            voided=self.voided,
            reservation_id=self.reservation_id,
        )
        self.voided, self.captured = undone.voided, self.captured or undone.captured
        return undone.clean

    def _mark(self, step: str) -> None:
        """Record the step about to be taken, before it touches another service."""
        self.step = step
        attempts.mark(self.ctx, self.claim, step)
