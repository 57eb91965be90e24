"""The duplicate_charge fault: the one place that decides whether it runs, and its known-bad
payment path (steps 4-6 without idempotency keys).

The incident it reproduces: a client mints a new Idempotency-Key for every call (the gateway
insists on one, so this is how "without the key" looks), and its own retry loop runs the whole
payment again when an answer is lost. The gateway cannot tell the retry from a new payment, so
one order gets two authorizations and two charges. The saga's correct steps (`payment`: stable
keys ``<order>-<n>-authorize`` / ``-capture``, ambiguity settled by a void) are left untouched;
the saga takes this path only when `fires` says so.

The second run happens when a call's answer is lost (timeout, reset, 5xx: `DependencyFailed`)
and also, to make the fault visible without another fault, once after a capture that succeeded,
as if its answer had been lost. At most two runs: at most two charges per order. What the runs
leave is told to the saga through its `Books` (the order row follows the newest authorization
until a capture, then the capture), exactly as its correct path records them.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Protocol

from shopsim.client import Dependency, DependencyFailed
from shopsim.context import ServiceContext
from shopsim.errors import ShopsimError, Unavailable
from shopsim.faults.logic import Logic
from shopsim.services.checkout.instruments import Instruments

log = logging.getLogger("shopsim")


def fires(ctx: ServiceContext) -> bool:
    """The switch point: whether this checkout pays the known-bad way (one draw per checkout)."""
    return ctx.faults.fires(Logic.DUPLICATE_CHARGE) is not None


class Books(Protocol):
    """Where a payment is recorded as it happens (the saga: its order row and its state)."""

    def record_authorization(self, authorization_id: str) -> None:
        """The order now follows this authorization (step 5 the first time)."""

    def record_capture(self, authorization_id: str, charge_id: str | None) -> None:
        """This authorization was captured: the order is paid."""


def pay(
    gateway: Dependency,
    metrics: Instruments,
    books: Books,
    order_id: str,
    total_cents: int,
    card_token: str,
) -> None:
    """Authorize and capture under throwaway keys, then do it all again as a fresh payment."""
    authorization = {
        "amount_cents": total_cents,
        "currency": "USD",
        "card_token": card_token,
        "reference": order_id,
    }
    captured = False
    for retry in (False, True):
        try:
            with metrics.timed("authorize"):
                auth = _send(gateway, order_id, "/authorizations", authorization)
            if not captured:  # the order follows the newest authorization until a capture
                books.record_authorization(auth["authorization_id"])
            with metrics.timed("capture"):
                charge = _capture(gateway, order_id, auth["authorization_id"])
        except ShopsimError as err:
            if captured:  # the "retry" failed; the first charge stands
                log.warning("checkout: payment retry of %s failed: %s", order_id, err.message)
                return
            if isinstance(err, DependencyFailed) and not retry:
                continue  # the answer is lost: pay again, as a new payment
            raise
        captured = True
        books.record_capture(auth["authorization_id"], charge["charge_id"])


def _capture(gateway: Dependency, order_id: str, authorization_id: str) -> dict[str, Any]:
    try:
        return _send(gateway, order_id, f"/authorizations/{authorization_id}/capture", {})
    except DependencyFailed:
        raise
    except ShopsimError as err:  # as the saga's own capture: a refusal is not the buyer's fault
        raise Unavailable(
            f"payment refused the capture: {err.message}", code="capture_refused"
        ) from err


def _send(gateway: Dependency, order_id: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One payment POST under a key minted for this call alone: it protects nothing."""
    key = {"Idempotency-Key": f"{order_id}-{uuid.uuid4().hex}"}
    return gateway.call("POST", path, json=body, headers=key)
