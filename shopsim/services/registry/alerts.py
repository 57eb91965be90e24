"""Gift alerts: each recorded purchase asks notifications to tell the registry's followers.

A purchase is committed first and its alert enqueued after. If that fails the purchase stays
``alert_state = 'pending'`` and `retry_pending_alerts(ctx)` enqueues it later; the event id
``gift:<order_id>`` (also the Idempotency-Key) makes a repeated enqueue harmless.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from shopsim.context import ServiceContext
from shopsim.errors import ShopsimError
from shopsim.services.registry.tables import purchases, registries

log = logging.getLogger("shopsim")


def send_alert(ctx: ServiceContext, order_id: str) -> bool:
    """Enqueue one purchase's gift alert; True once notifications has accepted it."""
    with ctx.db.read() as conn:
        row = conn.execute(
            select(purchases, registries.c.kind, registries.c.title)
            .join(registries, registries.c.id == purchases.c.registry_id)
            .where(purchases.c.order_id == order_id)
        ).first()
    if row is None or row.alert_state != "pending":
        return False
    event_id = f"gift:{order_id}"
    message = {
        "event_id": event_id,
        "template": "gift_alert",
        "registry_id": row.registry_id,
        "data": {
            "registry_kind": row.kind,
            "registry_title": row.title,
            "buyer_name": row.buyer_name,
            "items": json.loads(row.items),
        },
    }
    try:
        ctx.dep("notifications").call(
            "POST", "/messages", json=message, headers={"Idempotency-Key": event_id}
        )
    except ShopsimError as exc:  # kept pending: retry_pending_alerts tries again
        log.warning("registry: gift alert for %s not enqueued: %s", order_id, exc.message)
        return False
    with ctx.db.write() as conn:
        conn.execute(
            purchases.update().where(purchases.c.order_id == order_id).values(alert_state="sent")
        )
    return True


def retry_pending_alerts(ctx: ServiceContext, limit: int = 100) -> int:
    """Enqueue the gift alerts still pending, oldest first; returns how many went through."""
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(purchases.c.order_id)
            .where(purchases.c.alert_state == "pending")
            .order_by(purchases.c.created_at)
            .limit(limit)
        ).fetchall()
    return sum(1 for row in rows if send_alert(ctx, row.order_id))
