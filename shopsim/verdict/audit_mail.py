"""The audit's checks of mail: who each gift alert and order confirmation reached, and what the
outbox still holds.

The mail sink keeps one row per (message, recipient) with the event that caused it: a gift alert's
event is ``gift:<order_id>`` (registry records the gift under that order id), a confirmation's
``order-confirmation:<order_id>``. The truth to compare with is the owning service's own record:
the registry a gift was really bought from (registry_purchases), its owner (registry_registries)
and followers (notifications' registry subscriptions), and the order's buyer (checkout_orders).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shopsim.verdict.findings import (
    CONFIRMATION_MISSING,
    CONFIRMATION_WRONG_RECIPIENT,
    GIFT_ALERT_MISSING,
    GIFT_ALERT_WRONG_MAIL,
    GIFT_ALERT_WRONG_RECIPIENT,
    OUTBOX_DEAD_LETTER,
    OUTBOX_QUEUED,
    Findings,
)
from shopsim.verdict.snapshot import Snapshot

GIFT_EVENT = "gift:"
CONFIRMATION_EVENT = "order-confirmation:"


def _mail(m: Any) -> dict[str, Any]:
    return {
        "mail_id": m.id,
        "event_id": m.event_id,
        "recipient_customer_id": m.recipient_customer_id,
        "recipient_email": m.recipient_email,
        "greeting": m.greeting,
    }


def gift_audiences(snap: Snapshot) -> dict[str, tuple[int | None, set[int]]]:
    """Gift order id -> (registry id, customers allowed to hear of it: owner and followers)."""
    owners = {r.id: r.owner_customer_id for r in snap["registry_registries"]}
    followers: dict[int, set[int]] = defaultdict(set)
    for s in snap["notifications_registry_subscriptions"]:
        followers[s.registry_id].add(s.customer_id)
    out: dict[str, tuple[int | None, set[int]]] = {}
    for p in snap["registry_purchases"]:
        owner = owners.get(p.registry_id)
        allowed = set(followers[p.registry_id]) | ({owner} if owner is not None else set())
        out[p.order_id] = (p.registry_id, allowed)
    return out


def wrong_gift_alerts(snap: Snapshot) -> list[Any]:
    """Gift alert mails whose recipient neither owns nor follows the gift's registry (or that
    announce a gift nobody bought), in mail order."""
    audiences = gift_audiences(snap)
    wrong = []
    for m in snap["notifications_mail_sink"]:
        if m.template != "gift_alert":
            continue
        _, allowed = audiences.get(m.event_id.removeprefix(GIFT_EVENT), (None, set()))
        if m.recipient_customer_id not in allowed:
            wrong.append(m)
    return wrong


def check_gift_alerts(snap: Snapshot, found: Findings) -> None:
    """Every gift alert went to the owner or a follower of the registry the gift came from."""
    audiences = gift_audiences(snap)
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for m in wrong_gift_alerts(snap):
        registry_id, _ = audiences.get(m.event_id.removeprefix(GIFT_EVENT), (None, set()))
        found.add(GIFT_ALERT_WRONG_MAIL, _mail(m) | {"registry_id": registry_id})
        by_customer[m.recipient_customer_id].append(m)
    for customer_id, mails in sorted(by_customer.items()):
        example = {
            "customer_id": customer_id,
            "email": mails[0].recipient_email,
            "wrong_mails": len(mails),
            "events": sorted({m.event_id for m in mails})[:5],
        }
        found.add(GIFT_ALERT_WRONG_RECIPIENT, example)
    reached = {
        (m.event_id, m.recipient_customer_id)
        for m in snap["notifications_mail_sink"]
        if m.template == "gift_alert"
    }
    for order_id, (registry_id, allowed) in sorted(audiences.items()):
        if not any((GIFT_EVENT + order_id, c) in reached for c in allowed):
            found.add(GIFT_ALERT_MISSING, {"order_id": order_id, "registry_id": registry_id})


def wrong_confirmations(snap: Snapshot) -> list[Any]:
    """Confirmation mails not to the confirmed order's buyer, in mail order."""
    orders = {o.id: o for o in snap["checkout_orders"]}
    wrong = []
    for m in snap["notifications_mail_sink"]:
        if m.template != "order_confirmation":
            continue
        order = orders.get(m.event_id.removeprefix(CONFIRMATION_EVENT))
        right = (
            order is not None
            and order.status == "confirmed"
            and m.recipient_customer_id == order.customer_id
            and m.recipient_email == order.email
        )
        if not right:
            wrong.append(m)
    return wrong


def check_confirmations(snap: Snapshot, found: Findings) -> None:
    """Every order confirmation went to its buyer; notice confirmed orders that got none."""
    orders = {o.id: o for o in snap["checkout_orders"]}
    for m in wrong_confirmations(snap):
        order = orders.get(m.event_id.removeprefix(CONFIRMATION_EVENT))
        buyer = None if order is None else order.customer_id
        found.add(CONFIRMATION_WRONG_RECIPIENT, _mail(m) | {"buyer_customer_id": buyer})
    mailed = {
        (m.event_id, m.recipient_customer_id)
        for m in snap["notifications_mail_sink"]
        if m.template == "order_confirmation"
    }
    for order_id, order in sorted(orders.items()):
        if order.status != "confirmed":
            continue
        if (CONFIRMATION_EVENT + order_id, order.customer_id) not in mailed:
            example = {"order_id": order_id, "customer_id": order.customer_id}
            found.add(CONFIRMATION_MISSING, example)


def check_outbox(snap: Snapshot, found: Findings) -> None:
    """Notice messages still queued, and those parked as dead letters (with their errors).

    Notices, not violations: a queued message is late mail the sender delivers once it runs
    again, and a dead letter is kept with its error for a human to resend; neither wrote
    anything wrong. The wrong mail itself is what the other checks count."""
    errors = {d.message_id: d.error for d in snap["notifications_dead_letters"]}
    pending = sorted(snap["notifications_messages"], key=lambda m: (m.created_at, m.id))
    for m in pending:
        example = {"message_id": m.id, "event_id": m.event_id, "template": m.template}
        if m.status == "queued":
            found.add(OUTBOX_QUEUED, example | {"age_s": found.age_s(m.created_at)})
        elif m.status == "failed":
            found.add(OUTBOX_DEAD_LETTER, example | {"error": errors.get(m.id)})
