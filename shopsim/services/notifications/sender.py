"""The sender: queued outbox messages become mail-sink rows, each message in its own transaction.

Audience per template:
    order_confirmation -> the message's recipient
    gift_alert         -> `gift_alert_audience(conn, registry_id)`: the registry's subscribers

The audience function is looked up in `of(ctx).audience` at send time, so a
test can swap exactly that query on one app, and put it back.

A message that cannot be sent (it does not render) is parked: status "failed", and the error in
`dead_letters`, so it never holds up the messages queued behind it.

Three faults switch one path each to its known-bad variant (see shopsim/faults/types/):
    notification_misfire  per gift alert: `misfired_gift_alert_audience` instead of the audience
    outbox_stall          per round: the round sends nothing
    poison_message        per round: a failing message is retried first next round, not parked,
                          and the round stops there (head-of-line blocking)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from shopsim.context import ServiceContext
from shopsim.db import Database
from shopsim.faults.logic import Logic
from shopsim.services.notifications.tables import contacts, dead_letters, mail_sink, messages
from shopsim.services.notifications.tables import registry_subscriptions as subscriptions

log = logging.getLogger("shopsim")

TEMPLATES = ("order_confirmation", "gift_alert")


@dataclass(frozen=True)
class Recipient:
    """Who a mail goes to."""

    customer_id: int
    email: str
    first_name: str


Audience = Callable[[Connection, int], Sequence[Recipient]]


def gift_alert_audience(conn: Connection, registry_id: int) -> list[Recipient]:
    """Who hears about a gift bought from a registry: the contacts subscribed to that registry."""
    rows = conn.execute(
        select(contacts.c.customer_id, contacts.c.email, contacts.c.first_name)
        .join(subscriptions, subscriptions.c.customer_id == contacts.c.customer_id)
        .where(subscriptions.c.registry_id == registry_id)
        .order_by(contacts.c.customer_id)
    ).all()
    return [Recipient(r.customer_id, r.email, r.first_name) for r in rows]


def misfired_gift_alert_audience(conn: Connection, registry_id: int) -> list[Recipient]:
    """The known-bad audience (fault notification_misfire), as in the 2017 registry incident.

    The query lost its join to the registry's subscribers, and with it the registry filter and
    the name column it brought along: every contact hears about someone else's gift, and every
    mail opens "Hi Customer,". `registry_id` is accepted and ignored; that is the bug.
    """
    rows = conn.execute(
        select(contacts.c.customer_id, contacts.c.email).order_by(contacts.c.customer_id)
    ).all()
    return [Recipient(r.customer_id, r.email, "") for r in rows]


@dataclass
class Notifier:
    """notifications' per-app objects: business counters and the swappable gift audience."""

    sent: Counter
    enqueued: Counter
    audience: Audience = gift_alert_audience


def of(ctx: ServiceContext) -> Notifier:
    """notifications' state: the `Notifier` its init_app set on the service context."""
    found = ctx.service_state
    if not isinstance(found, Notifier):
        raise TypeError(f"{ctx.service} has no notifier (init_app builds it)")
    return found


def greeting(first_name: str) -> str:
    """The greeting line: "Hi Ada," or, without a name, "Hi Customer,"."""
    return f"Hi {first_name}," if first_name else "Hi Customer,"


def dollars(cents: int) -> str:
    """12345 -> "$123.45"."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def _item_lines(data: dict[str, Any]) -> list[str]:
    items = data.get("items") or []
    return [
        f"  - {item.get('quantity', 1)} x {item['sku']}"
        for item in items
        if isinstance(item, dict) and "sku" in item
    ]


def render(template: str, event_id: str, data: dict[str, Any], first_name: str) -> tuple[str, str]:
    """The subject and body of one mail."""
    if template == "order_confirmation":
        order_id = data.get("order_id") or event_id.removeprefix("order-confirmation:")
        subject = f"Your order {order_id} is confirmed"
        lines = [f"Thank you for shopping with us. Your order {order_id} is confirmed."]
        if isinstance(data.get("total_cents"), int):
            lines.append(f"Total: {dollars(data['total_cents'])}")
    else:
        kind = data.get("registry_kind") or ""
        subject = " ".join(f"A gift is on the way from your {kind} registry".split())
        buyer = data.get("buyer_name") or "Someone"
        title = data.get("registry_title")
        where = f'your registry "{title}"' if title else "your registry"
        lines = [f"{buyer} bought a gift from {where}."]
    items = _item_lines(data)
    if items:
        lines += ["", "Items:", *items]
    return subject, "\n".join([greeting(first_name), "", *lines]) + "\n"


def _audience(
    conn: Connection, template: str, payload: dict[str, Any], audience: Audience
) -> list[Recipient]:
    if template == "order_confirmation":
        to = payload["recipient"]
        words = (to.get("name") or "").split()
        return [Recipient(to["customer_id"], to["email"], words[0] if words else "")]
    return list(audience(conn, payload["registry_id"]))


def _send_one(db: Database, message_id: str, audience: Audience) -> tuple[str, int] | None:
    """Write one message's mail and mark it sent: (template, mails written), None if not queued."""
    with db.write() as conn:
        stmt = select(messages).where(messages.c.id == message_id).with_for_update()
        message = conn.execute(stmt).first()
        if message is None or message.status != "queued":
            return None  # another sender got there first
        payload = json.loads(message.payload)
        already = set(
            conn.execute(
                select(mail_sink.c.recipient_customer_id).where(
                    mail_sink.c.message_id == message_id
                )
            ).scalars()
        )
        now = time.time()
        rows = []
        for to in _audience(conn, message.template, payload, audience):
            if to.customer_id in already:
                continue  # a resend must not mail anyone twice; a query may list someone twice
            already.add(to.customer_id)
            subject, body = render(
                message.template, message.event_id, payload.get("data") or {}, to.first_name
            )
            rows.append(
                {
                    "message_id": message_id,
                    "event_id": message.event_id,
                    "template": message.template,
                    "recipient_customer_id": to.customer_id,
                    "recipient_email": to.email,
                    "greeting": greeting(to.first_name),
                    "subject": subject,
                    "body": body,
                    "sent_at": now,
                }
            )
        if rows:
            conn.execute(mail_sink.insert(), rows)
        conn.execute(
            update(messages).where(messages.c.id == message_id).values(status="sent", sent_at=now)
        )
    return message.template, len(rows)


def _gift_audience(ctx: ServiceContext, notifier: Notifier) -> Audience:
    """The gift audience, chosen per send: the known-bad one when notification_misfire fires."""

    def audience(conn: Connection, registry_id: int) -> Sequence[Recipient]:
        if ctx.faults.fires(Logic.NOTIFICATION_MISFIRE):
            return misfired_gift_alert_audience(conn, registry_id)
        return notifier.audience(conn, registry_id)

    return audience


def _park(db: Database, message_id: str, exc: Exception) -> None:
    """Set a message that cannot be sent aside as "failed", with the reason, for a human."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    with db.write() as conn:
        parked = conn.execute(
            update(messages)
            .where(messages.c.id == message_id, messages.c.status == "queued")
            .values(status="failed")
        )
        if parked.rowcount == 1:  # not if another sender parked or sent it meanwhile
            conn.execute(
                dead_letters.insert().values(
                    message_id=message_id, error=error, failed_at=time.time()
                )
            )


def send_pending(ctx: ServiceContext, limit: int = 100) -> int:
    """Send queued messages oldest first, each in its own transaction; returns how many."""
    notifier = of(ctx)
    if ctx.faults.fires(Logic.OUTBOX_STALL):
        return 0  # known-bad: the sender is stuck; nothing is read, nothing is sent
    head_of_line = ctx.faults.fires(Logic.POISON_MESSAGE) is not None
    audience = _gift_audience(ctx, notifier)
    with ctx.db.read() as conn:
        queued = list(
            conn.execute(
                select(messages.c.id)
                .where(messages.c.status == "queued")
                .order_by(messages.c.created_at, messages.c.id)
                .limit(limit)
            ).scalars()
        )
    sent = 0
    for message_id in queued:
        try:
            result = _send_one(ctx.db, message_id, audience)
        except SQLAlchemyError:
            raise  # the database is the problem, not this message: the next round retries
        except Exception as exc:
            if head_of_line:
                # known-bad (poison_message): retry it first next round; all behind it wait
                log.warning("notifications: message %s failed; retrying it first", message_id)
                break
            # One unrenderable message must not hold up every message queued behind it.
            log.exception("notifications: message %s could not be sent; parked", message_id)
            _park(ctx.db, message_id, exc)
            continue
        if result is not None:
            template, mails = result
            notifier.sent.labels(template).inc(mails)
            sent += 1
    return sent


def outbox_depth(db: Database) -> int:
    """Messages queued and not yet sent."""
    with db.read() as conn:
        stmt = select(func.count()).select_from(messages).where(messages.c.status == "queued")
        return int(conn.execute(stmt).scalar_one())


def outbox_oldest_age_s(db: Database) -> float:
    """Seconds the oldest queued message has waited (0 when the outbox is empty)."""
    with db.read() as conn:
        stmt = select(func.min(messages.c.created_at)).where(messages.c.status == "queued")
        oldest = conn.execute(stmt).scalar_one()
    return 0.0 if oldest is None else max(0.0, time.time() - oldest)
