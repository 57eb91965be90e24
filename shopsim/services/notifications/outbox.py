"""Writing to the outbox: a queued message row, and the outbox as a fault may write to it.

`queue` is the one place a message row is written (the API's enqueue calls it). `Outbox` is
what this service hands its fault engine (shopsim.faults.target.Outbox): poison_message plants
a message through it, stored as an old producer would have stored it, past the API's checks.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from shopsim.db import Database
from shopsim.services.notifications.tables import messages


def queue(conn: Connection, event_id: str, template: str, payload: str, request_hash: str) -> str:
    """Insert one queued message (`payload` is its JSON text); returns its id."""
    message_id = "msg_" + secrets.token_hex(12)
    conn.execute(
        messages.insert().values(
            id=message_id,
            event_id=event_id,
            template=template,
            payload=payload,
            request_hash=request_hash,
            status="queued",
            created_at=time.time(),
        )
    )
    return message_id


@dataclass(frozen=True)
class Outbox:
    """notifications' outbox, for the faults that act on it."""

    db: Database

    def plant(self, event_id: str, template: str, payload: Mapping[str, Any]) -> str:
        """Queue `payload` as it is, without the API's validation; returns the message id."""
        text = json.dumps(payload)
        with self.db.write() as conn:
            return queue(conn, event_id, template, text, hashlib.sha256(text.encode()).hexdigest())
