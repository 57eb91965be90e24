"""The known-bad payment step of the duplicate_charge fault: steps 4-6 without idempotency keys.

The incident it reproduces: a client mints a new Idempotency-Key for every call (the gateway
insists on one, so this is how "without the key" looks), and its own retry loop runs the whole
payment again when an answer is lost. The gateway cannot tell the retry from a new payment, so
one order gets two authorizations and two charges. The saga's correct step (stable keys
``<order>-<n>-authorize`` / ``-capture``, ambiguity settled by a void) is left untouched; the saga
takes this path only when `fires` says so.

The second run happens when a call's answer is lost (timeout, reset, 5xx: `DependencyFailed`)
and also, to make the fault visible without another fault, once after a capture that succeeded,
as if its answer had been lost. At most two runs: at most two charges per order.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from shopsim.client import DependencyFailed
from shopsim.context import ServiceContext
from shopsim.errors import ShopsimError, Unavailable

if TYPE_CHECKING:
    from shopsim.services.checkout.saga import Request, Saga

log = logging.getLogger("shopsim")
FAULT = "duplicate_charge"


def fires(ctx: ServiceContext) -> bool:
    """The switch point: whether this checkout pays the known-bad way (one draw per checkout)."""
    return ctx.faults.firing(FAULT) is not None


def pay(saga: Saga, req: Request, total: int, from_cart: bool) -> None:
    """Authorize and capture under throwaway keys, then do it all again as a fresh payment."""
    written = False
    for retry in (False, True):
        try:
            with saga.metrics.timed("authorize"):
                auth = _send(saga, "/authorizations", _authorization(saga, req, total))
            if not written:
                saga.authorization_id = auth["authorization_id"]
                with saga.metrics.timed("create_order"):
                    saga._write_order(req, total, from_cart, "pending", None)
                written = True
            elif not saga.captured:  # the order follows the newest authorization until a capture
                saga.authorization_id = auth["authorization_id"]
                saga.update_order(authorization_id=saga.authorization_id)
            with saga.metrics.timed("capture"):
                charge = _capture(saga, auth["authorization_id"])
        except ShopsimError as err:
            if saga.captured:  # the "retry" failed; the first charge stands
                log.warning("checkout: payment retry of %s failed: %s", saga.oid, err.message)
                return
            if isinstance(err, DependencyFailed) and not retry:
                continue  # the answer is lost: pay again, as a new payment
            raise
        saga.captured = True
        saga.authorization_id = auth["authorization_id"]
        saga.update_order(
            authorization_id=saga.authorization_id, captured=True, charge_id=charge["charge_id"]
        )


def _authorization(saga: Saga, req: Request, total: int) -> dict[str, Any]:
    return {
        "amount_cents": total,
        "currency": "USD",
        "card_token": req.card_token,
        "reference": saga.oid,
    }


def _capture(saga: Saga, authorization_id: str) -> Any:
    try:
        return _send(saga, f"/authorizations/{authorization_id}/capture", {})
    except DependencyFailed:
        raise
    except ShopsimError as err:  # as the saga's own capture: a refusal is not the buyer's fault
        raise Unavailable(
            f"payment refused the capture: {err.message}", code="capture_refused"
        ) from err


def _send(saga: Saga, path: str, body: dict[str, Any]) -> Any:
    """One payment POST under a key minted for this call alone: it protects nothing."""
    key = {"Idempotency-Key": f"{saga.oid}-{uuid.uuid4().hex}"}
    return saga.ctx.dep("payment").call("POST", path, json=body, headers=key)
