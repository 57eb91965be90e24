"""Undoing an attempt that has not captured, and parking one that cannot be settled yet.

Every call here is idempotent (a void under the attempt's own key, a release), so a compensation
interrupted half-way is simply done again by `recover`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NoReturn

from shopsim.errors import Conflict, NotFound, ShopsimError, Unavailable
from shopsim.services.checkout import attempts
from shopsim.services.checkout.attempts import NEEDS_RECOVERY

if TYPE_CHECKING:
    from shopsim.services.checkout.saga import Saga

log = logging.getLogger("shopsim")


def void(saga: Saga) -> str:
    """Void the authorization: "voided", or "captured" if the gateway says it was captured."""
    try:
        saga.ctx.dep("payment").call(
            "POST",
            f"/authorizations/{saga.authorization_id}/void",
            json={},
            headers=saga.key("void"),
        )
    except Conflict as err:
        if err.code == "already_captured":
            return "captured"
        raise
    except NotFound:
        pass  # no such authorization: nothing to void
    saga.voided = True
    return "voided"


def undo(saga: Saga) -> bool:
    """Void and release what this attempt holds; True when nothing is left outstanding."""
    clean = True
    if saga.authorization_id and not saga.voided:
        try:
            if void(saga) == "captured":  # cannot be undone: the caller must go forward
                saga.captured = True
                return False
        except ShopsimError as exc:
            log.warning("checkout: void of %s failed: %s", saga.oid, exc.message)
            clean = False
    if saga.reservation_id:
        try:
            saga.ctx.dep("inventory").call(
                "POST",
                f"/reservations/{saga.reservation_id}/release",
                headers={"Idempotency-Key": f"{saga.reservation_id}-release"},
            )
        except NotFound:
            pass  # never created
        except ShopsimError as exc:  # it still expires on its own; recover releases it sooner
            log.warning("checkout: release of %s failed: %s", saga.oid, exc.message)
            clean = False
    return clean


def park(saga: Saga, exc: Exception) -> NoReturn:
    """Leave the attempt for `recover` (money or stock in doubt) and answer 503."""
    attempts.settle(saga.ctx, saga.claim, NEEDS_RECOVERY, saga.step)
    if isinstance(exc, ShopsimError) and exc.status == 503:
        exc.headers["Retry-After"] = "1"
        raise exc
    if isinstance(exc, ShopsimError):
        raise Unavailable(
            f"checkout {saga.oid} could not finish yet; it will be completed",
            code="checkout_incomplete",
            headers={"Retry-After": "1"},
        ) from exc
    raise exc
