"""The payment steps of a checkout, each call under a key of its attempt.

Attempt n of order o authorizes under ``o-n-authorize`` (reference o), captures under
``o-n-capture`` and voids under ``o-n-void``, so a repeated call is the same call to the gateway:
a retry never charges twice. An ambiguous capture (no answer) is settled by voiding: voided means
it never happened, ``already_captured`` means it did, no answer again leaves it unknown.
Each function returns what happened; the saga decides what that means for the order.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopsim.client import Dependency
from shopsim.errors import Conflict, NotFound, ShopsimError, Unavailable


def key(order_id: str, attempt_no: int, step: str) -> dict[str, str]:
    """The Idempotency-Key header of one call of attempt n of an order."""
    return {"Idempotency-Key": f"{order_id}-{attempt_no}-{step}"}


def authorize(
    gateway: Dependency, order_id: str, attempt_no: int, total_cents: int, card_token: str
) -> str:
    """Step 4: hold the order's total on the card; the authorization id (a decline raises 402)."""
    auth = gateway.call(
        "POST",
        "/authorizations",
        json={
            "amount_cents": total_cents,
            "currency": "USD",
            "card_token": card_token,
            "reference": order_id,
        },
        headers=key(order_id, attempt_no, "authorize"),
    )
    return str(auth["authorization_id"])


@dataclass(frozen=True)
class Capture:
    """What a capture came to. Captured when `error` is None (`charge_id` None: answer lost)."""

    charge_id: str | None = None
    error: ShopsimError | None = None  # not captured: the error to answer with
    voided: bool = False  # an ambiguous answer was settled by voiding: it never happened
    unknown: bool = False  # no answer, and none from the void either: the money is in doubt


def capture(gateway: Dependency, order_id: str, attempt_no: int, authorization_id: str) -> Capture:
    """Step 6: take the money; an ambiguous answer is settled by a void."""
    try:
        charge = gateway.call(
            "POST",
            f"/authorizations/{authorization_id}/capture",
            json={},
            headers=key(order_id, attempt_no, "capture"),
        )
    except ShopsimError as err:
        if err.code == "already_captured":
            return Capture()
        if err.status == 503 or err.code == "idempotency_key_in_use":
            # No answer: it may have been captured. A void settles which one it was.
            try:
                verdict = void(gateway, order_id, attempt_no, authorization_id)
            except ShopsimError:
                return Capture(error=err, unknown=True)
            return Capture(error=err, voided=True) if verdict == "voided" else Capture()
        refused = Unavailable(f"payment refused the capture: {err.message}", code="capture_refused")
        refused.__cause__ = err
        return Capture(error=refused)
    return Capture(charge_id=charge.get("charge_id"))


def void(gateway: Dependency, order_id: str, attempt_no: int, authorization_id: str) -> str:
    """Void an authorization: "voided", or "captured" if the gateway says it was captured.

    Raises when the gateway cannot answer: then nobody knows yet.
    """
    try:
        gateway.call(
            "POST",
            f"/authorizations/{authorization_id}/void",
            json={},
            headers=key(order_id, attempt_no, "void"),
        )
    except Conflict as err:
        if err.code == "already_captured":
            return "captured"
        raise
    except NotFound:
        pass  # no such authorization: nothing to void
    return "voided"


def find_charge(gateway: Dependency, order_id: str, authorization_id: str | None) -> str | None:
    """The charge id of an authorization's capture from the ledger, when its answer was lost."""
    try:
        ledger = gateway.call("GET", "/charges", params={"reference": order_id})
    except ShopsimError:
        return None  # only the audit trail misses it; the money is already right
    mine = [c for c in ledger["charges"] if c["authorization_id"] == authorization_id]
    return str(mine[0]["charge_id"]) if mine else None
