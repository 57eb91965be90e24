"""The checkout saga: its steps forward (undoing is in `compensation`, the steps after a capture
in `completion`).

Attempt n of order o (o is fixed by the idempotency key, n by the claim on it)::

    1 cart          cart GET (or the given items); registry GET for a gift
    2 price         catalog POST /prices
    3 reserve       inventory POST /reservations               reservation o-n
    4 authorize     payment POST /authorizations               key o-n-authorize, reference o
    5 create_order  order row "pending" with its lines, reservation and authorization ids
    6 capture       payment POST /authorizations/<a>/capture   key o-n-capture
    7 commit        inventory POST /reservations/o-n/commit
    8 confirm       order "confirmed" + attempt done (its 201 stored) + followups queued: one
                    transaction; then the followups run (failures there never fail the order)

The attempt row records the step before 3, 4 and 7, so an audit (or `recovery.resolve`) knows what
may exist downstream. A failure before the capture is undone newest first: void the
authorization, release the reservation, order "failed" (written then if step 5 was not reached).
Once a capture is known nothing is undone: the saga only goes forward, and if it cannot, the
attempt waits in needs_recovery. An ambiguous capture (no answer) is settled by voiding: voided
means it never happened (undo), ``already_captured`` means it did (go on), no answer again means
the order is "capture_unknown" until `recover` settles it the same way.
Steps 4-6 have one fault switch point: while duplicate_charge fires they run `unkeyed.pay`, the
known-bad variant without idempotency keys; everything else is the same saga.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shopsim.context import ServiceContext
from shopsim.errors import Conflict, NotFound, ShopsimError, Unavailable
from shopsim.services.checkout import attempts, compensation, completion, unkeyed
from shopsim.services.checkout.attempts import DONE, NEEDS_RECOVERY, RETRYABLE, Claim
from shopsim.services.checkout.instruments import Instruments
from shopsim.services.checkout.tables import order_items, orders

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
    """One owned attempt of one order: run it from the top, or finish or undo what it left."""

    def __init__(self, ctx: ServiceContext, claim: Claim) -> None:
        self.ctx, self.claim = ctx, claim
        self.oid, self.n = claim.order_id, claim.attempt_no
        self.metrics: Instruments = ctx.extras["checkout_metrics"]
        self.reservation_id: str | None = None  # set once a reservation may exist
        self.authorization_id: str | None = None
        self.voided = self.captured = self.capture_unknown = False
        self.step = claim.step
        self.priced: list[dict[str, Any]] = []

    def mark(self, step: str) -> None:
        """Record the step about to be taken, before it touches another service."""
        self.step = step
        attempts.mark(self.ctx, self.claim, step)

    def key(self, step: str) -> dict[str, str]:
        """The Idempotency-Key header of one payment call of this attempt."""
        return {"Idempotency-Key": f"{self.oid}-{self.n}-{step}"}

    def run(self, req: Request) -> tuple[int, Any]:
        """Attempt n from the top: the final answer, or raises 503 (retryable) after undoing."""
        try:
            return self._forward(req)
        except Exception as exc:  # every failure is settled (undone or parked) before it leaves
            return self._fail(req, exc)

    def _forward(self, req: Request) -> tuple[int, Any]:
        ctx = self.ctx
        with self.metrics.timed("cart"):
            lines, from_cart = self._lines(req)
        with self.metrics.timed("price"):
            self.priced = self._price(lines)
        total = sum(line["quantity"] * line["price_cents"] for line in self.priced)
        self.mark("reserve")
        rid = self.reservation_id = f"{self.oid}-{self.n}"
        with self.metrics.timed("reserve"):
            try:
                ctx.dep("inventory").call(
                    "POST",
                    "/reservations",
                    json={"reservation_id": rid, "items": lines},
                    headers={"Idempotency-Key": rid},
                )
            except ShopsimError as err:
                if err.status != 503:  # refused outright; all or nothing, so nothing is held
                    self.reservation_id = None
                raise
        self.mark("authorize")
        if unkeyed.fires(ctx):  # duplicate_charge: its known-bad variant of steps 4-6
            unkeyed.pay(self, req, total, from_cart)
            return completion.complete(self)
        with self.metrics.timed("authorize"):
            auth = ctx.dep("payment").call(
                "POST",
                "/authorizations",
                json={
                    "amount_cents": total,
                    "currency": "USD",
                    "card_token": req.card_token,
                    "reference": self.oid,
                },
                headers=self.key("authorize"),
            )
        self.authorization_id = auth["authorization_id"]
        with self.metrics.timed("create_order"):
            self._write_order(req, total, from_cart, "pending", None)
        with self.metrics.timed("capture"):
            self._capture()
        return completion.complete(self)

    def _lines(self, req: Request) -> tuple[list[dict[str, Any]], bool]:
        if req.items is not None:
            lines, from_cart = req.items, False
        else:
            cart = self.ctx.dep("cart").call("GET", f"/carts/{req.customer_id}")
            lines = [{"sku": i["sku"], "quantity": i["quantity"]} for i in cart["items"]]
            from_cart = True
        if not lines:
            raise Conflict("there is nothing to check out", field="items", code="cart_empty")
        if req.registry_id is not None:
            found = self.ctx.dep("registry").call("GET", f"/registries/{req.registry_id}")
            wanted = {item["sku"] for item in found["items"]}
            for i, line in enumerate(lines):
                if line["sku"] not in wanted:
                    raise NotFound(
                        f"{line['sku']} is not on registry {req.registry_id}",
                        field=f"items[{i}].sku",
                        code="not_on_registry",
                    )
        return lines, from_cart

    def _price(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        skus = [line["sku"] for line in lines]
        try:
            prices = self.ctx.dep("catalog").call(
                "POST", "/prices", json={"skus": skus}, headers=self.key("price")
            )["prices"]
        except NotFound as err:  # catalog names "skus[i]"; our caller sent "items[i].sku"
            field = (err.field or "skus").replace("skus", "items", 1) + ".sku"
            raise NotFound(err.message, field=field, code=err.code) from err
        return [line | {"price_cents": prices[line["sku"]]} for line in lines]

    def _write_order(
        self, req: Request, total: int, from_cart: bool, status: str, reason: str | None
    ) -> None:
        """Insert or overwrite this key's order row (an earlier attempt's row is reused)."""
        now = time.time()
        values = {
            "customer_id": req.customer_id,
            "status": status,
            "total_cents": total,
            "registry_id": req.registry_id,
            "attempt_no": self.n,
            "reservation_id": self.reservation_id,
            "authorization_id": self.authorization_id,
            "captured": False,
            "charge_id": None,
            "from_cart": from_cart,
            "email": req.email,
            "name": req.name,
            "failure_reason": reason,
            "updated_at": now,
        }
        with self.ctx.db.write() as conn:
            found = conn.execute(
                select(orders.c.status).where(orders.c.id == self.oid).with_for_update()
            ).first()
            if found is None:
                conn.execute(orders.insert().values(id=self.oid, created_at=now, **values))
            elif found.status == "confirmed":  # the attempt row would be done: a bug, stop here
                raise RuntimeError(f"order {self.oid} is already confirmed")
            else:
                conn.execute(orders.update().where(orders.c.id == self.oid).values(**values))
            conn.execute(order_items.delete().where(order_items.c.order_id == self.oid))
            conn.execute(
                order_items.insert(),
                [{"order_id": self.oid} | line for line in sorted(self.priced, key=_sku)],
            )
            if status == "pending":
                self.step = "capture"
                attempts.settle(self.ctx, self.claim, "running", "capture", conn=conn)

    def update_order(self, **values: Any) -> None:
        """Change some fields of this key's order row."""
        with self.ctx.db.write() as conn:
            conn.execute(
                orders.update()
                .where(orders.c.id == self.oid)
                .values(updated_at=time.time(), **values)
            )

    def _capture(self) -> None:
        try:
            charge = self.ctx.dep("payment").call(
                "POST",
                f"/authorizations/{self.authorization_id}/capture",
                json={},
                headers=self.key("capture"),
            )
        except ShopsimError as err:
            if err.code == "already_captured":
                charge = {}
            elif err.status == 503 or err.code == "idempotency_key_in_use":
                # No answer: it may have been captured. A void settles which one it was.
                try:
                    verdict = compensation.void(self)
                except ShopsimError:
                    self.capture_unknown = True
                    self.update_order(status="capture_unknown", failure_reason=err.message)
                    raise err from None
                if verdict == "voided":
                    raise
                charge = {}
            else:
                raise Unavailable(
                    f"payment refused the capture: {err.message}", code="capture_refused"
                ) from err
        self.captured = True
        self.update_order(captured=True, charge_id=charge.get("charge_id") or self.find_charge())

    def find_charge(self) -> str | None:
        """The charge id of this attempt's capture from the ledger, when its answer was lost."""
        try:
            ledger = self.ctx.dep("payment").call("GET", "/charges", params={"reference": self.oid})
        except ShopsimError:
            return None  # only the audit trail misses it; the money is already right
        mine = [c for c in ledger["charges"] if c["authorization_id"] == self.authorization_id]
        return str(mine[0]["charge_id"]) if mine else None

    def _fail(self, req: Request, exc: Exception) -> tuple[int, Any]:
        err = exc if isinstance(exc, ShopsimError) else None
        self.metrics.count(err.status if err else 500, err.code if err else "")
        if self.captured or self.capture_unknown:
            compensation.park(self, exc)
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
            self.mark("compensate")
            clean = compensation.undo(self)
            if self.captured:  # the void found a capture after all: finish it later, not undo
                self.update_order(captured=True)
                compensation.park(self, exc)
            total = sum(x["quantity"] * x["price_cents"] for x in self.priced)
            self._write_order(req, total, req.items is None, "failed", reason[:500])
        if not clean:
            attempts.settle(self.ctx, self.claim, NEEDS_RECOVERY, "compensate", final)
        elif final:
            attempts.settle(self.ctx, self.claim, DONE, "failed", final)
        else:
            attempts.settle(self.ctx, self.claim, RETRYABLE, "failed")
        if final:
            return final
        raise exc


def _sku(line: dict[str, Any]) -> str:
    return str(line["sku"])
