"""Undoing an attempt that has not captured (void the authorization, release the reservation),
and parking one that cannot be settled yet.

Every call here is idempotent (a void under the attempt's own key, a release under the
reservation's), so a compensation interrupted half-way is simply done again by `recover`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NoReturn

from shopsim.client import Dependency
from shopsim.context import ServiceContext
from shopsim.errors import NotFound, ShopsimError, Unavailable
from shopsim.services.checkout import attempts, payment
from shopsim.services.checkout.attempts import NEEDS_RECOVERY, Claim

log = logging.getLogger("shopsim")


@dataclass(frozen=True)
class Undone:
    """What an undo came to."""

    clean: bool  # nothing is left outstanding
    voided: bool  # the authorization is void (it was already, or now is)
    captured: bool  # the void found a capture: nothing may be undone, the saga must go forward


def undo(
    gateway: Dependency,
    inventory: Dependency,
    *,
    order_id: str,
    attempt_no: int,
    authorization_id: str | None,
    voided: bool,
    reservation_id: str | None,
) -> Undone:
    """Void and release what an attempt holds, newest first."""
    clean = True
    if authorization_id and not voided:
        try:
            if payment.void(gateway, order_id, attempt_no, authorization_id) == "captured":
                return Undone(clean=False, voided=False, captured=True)
            voided = True
        except ShopsimError as exc:
            log.warning("checkout: void of %s failed: %s", order_id, exc.message)
            clean = False
    if reservation_id:
        try:
            inventory.call(
                "POST",
                f"/reservations/{reservation_id}/release",
                headers={"Idempotency-Key": f"{reservation_id}-release"},
            )
        except NotFound:
            pass  # never created
        except ShopsimError as exc:  # it still expires on its own; recover releases it sooner
            log.warning("checkout: release of %s failed: %s", order_id, exc.message)
            clean = False
    return Undone(clean=clean, voided=voided, captured=False)


def park(ctx: ServiceContext, claim: Claim, step: str, exc: Exception) -> NoReturn:
    """Leave the attempt for `recover` (money or stock in doubt) and answer 503."""
    attempts.settle(ctx, claim, NEEDS_RECOVERY, step)
    if isinstance(exc, ShopsimError) and exc.status == 503:
        exc.headers["Retry-After"] = "1"
        raise exc
    if isinstance(exc, ShopsimError):
        raise Unavailable(
            f"checkout {claim.order_id} could not finish yet; it will be completed",
            code="checkout_incomplete",
            headers={"Retry-After": "1"},
        ) from exc
    raise exc
