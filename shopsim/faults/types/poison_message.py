"""poison_message: a message the sender cannot process blocks the outbox.

Two halves, both needed for the incident:
- The poison. When the fault starts on notifications it plants one queued order confirmation
  in the outbox through the target's `outbox` (as an old producer or a bad migration would,
  past the API's validation) whose `data` is a JSON string, not an object: the sender's
  `render` raises on it.
- The known-bad sender. When the fault fires for a round of `send_pending`, a message that
  fails is not parked: it stays queued to be "retried first next round", and the round stops
  there. Sending is oldest first, so once the poison is the oldest queued message, every round
  stops at it and nothing behind it is ever sent (head-of-line blocking).

The correct sender (no fault, or a round the fault does not fire on) parks a failing message
(status "failed", its error in notifications_dead_letters) and carries on, so removing the
fault lets the next round park the poison and drain the rest, each message exactly once.

Damage: no message queued behind the poison is sent while it lasts; shopsim_outbox_depth stays
up and shopsim_outbox_oldest_message_age_seconds grows without bound. Requests still succeed.

Probability: drawn per sender round. It is ambient only for its start hook, which plants the
poison; stopping removes nothing (the poison is data, parked by the correct sender).
"""

from __future__ import annotations

import secrets

from shopsim.faults.base import FaultType, Handle, NoParams
from shopsim.faults.logic import Logic
from shopsim.faults.target import Target

POISON_DATA = "v1|order=ord_legacy|total=1999"  # an old producer's format, not an object


class PoisonMessage(FaultType[NoParams]):
    """A poison message in the outbox, and a sender that retries it first forever."""

    name = Logic.POISON_MESSAGE
    summary = "plants an unrenderable message; sender rounds stop at it instead of parking it"
    directions = ("inbound",)
    targets = ("notifications",)
    ambient = True

    def start(self, fault: Handle, target: Target) -> None:
        """Put the poison in the outbox, queued now."""
        if target.outbox is None:
            raise RuntimeError(f"{target.service} has no outbox to poison")
        event_id = f"poison:{secrets.token_hex(8)}"
        payload = {
            "event_id": event_id,
            "template": "order_confirmation",
            "recipient": {"customer_id": 1, "email": "poison@example.test", "name": ""},
            "registry_id": None,
            "data": POISON_DATA,
        }
        target.outbox.plant(event_id, "order_confirmation", payload)

    def stop(self) -> None:
        """Nothing to undo: the poison stays until the correct sender parks it."""
