"""Helpers shared by the tests of the notifications faults (outbox_stall, poison_message)."""

from __future__ import annotations

from typing import Any

from shopsim.services.notifications import send_pending

DEPTH = "shopsim_outbox_depth"
AGE = "shopsim_outbox_oldest_message_age_seconds"


def enqueue(store: Any, event_id: str) -> None:
    """Queue one order confirmation."""
    body = {
        "event_id": event_id,
        "template": "order_confirmation",
        "recipient": {"customer_id": 7, "email": "ada@example.test", "name": "Ada Lovelace"},
    }
    assert store.client("notifications").post("/messages", json=body).status_code == 202


def send(store: Any) -> int:
    """One sender round, as the background worker runs it."""
    return send_pending(store.ctx("notifications"), limit=1000)


def gauge(store: Any, name: str) -> float:
    """A notifications gauge (DEPTH or AGE)."""
    return store.metric("notifications", name)
