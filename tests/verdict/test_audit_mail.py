"""The audit's mail checks: the notification_misfire fault run for real, a confirmation sent to
the wrong person, and what the outbox still holds at the end."""

from __future__ import annotations

import sqlalchemy as sa

from shopsim.services.notifications import send_pending
from shopsim.services.notifications.tables import mail_sink
from shopsim.verdict.audit import audit
from tests.faults.conftest import add_fault, reset_faults
from tests.verdict.shop import databases, found, gift, shop_cleanly

MISFIRE = {"type": "notification_misfire", "target": "notifications", "duration_s": 60.0}
POISON = {"type": "poison_message", "target": "notifications", "duration_s": 60.0}


def misfire(store) -> list[str]:
    """Two gifts from two registries while every gift alert misfires: returns their order ids."""
    shop_cleanly(store)
    add_fault(store, MISFIRE | {"probability": 1.0})
    try:
        bought = [gift(store, "mis-1", registry_index=2), gift(store, "mis-2", registry_index=3)]
        assert [r.status_code for r in bought] == [201, 201]
        send_pending(store.ctx("notifications"))
    finally:
        reset_faults(store)
    return [r.get_json()["order_id"] for r in bought]


def test_notification_misfire_is_counted_in_wrong_mails_and_wrong_people(store):
    misfired = misfire(store)
    everyone = len(store.data.customers)
    integrity = audit(databases(store))
    # Each misfired alert reached every contact but its registry's owner (the one follower):
    # 199 wrong mails each; the two owners were wrong for each other's alert, so all 200 people.
    assert found(integrity) == {
        "gift_alert_wrong_mail": 2 * (everyone - 1),
        "gift_alert_wrong_recipient": everyone,
    }
    assert not integrity.clean
    mail = integrity.examples["gift_alert_wrong_mail"][0]
    assert mail["greeting"] == "Hi Customer,"
    assert mail["event_id"] == f"gift:{misfired[0]}"
    assert mail["registry_id"] == store.data.registries[2].id
    person = integrity.examples["gift_alert_wrong_recipient"][0]
    assert person["customer_id"] == store.data.customers[0].id
    assert person["email"] == store.data.customers[0].email
    first_owner = store.data.registries[2].owner_customer_id
    assert person["wrong_mails"] == (1 if person["customer_id"] == first_owner else 2)


def test_gift_alerts_to_the_owner_alone_are_right(store):
    shop_cleanly(store)  # two gifts, each alert to its owner
    bought = gift(store, "ok-1", registry_index=4)
    assert bought.status_code == 201
    send_pending(store.ctx("notifications"))
    integrity = audit(databases(store))
    assert integrity.violations["gift_alert_wrong_mail"] == 0
    assert integrity.clean and found(integrity) == {}


def test_a_confirmation_mailed_to_someone_else_is_counted(store):
    order_id = shop_cleanly(store)[0]
    stranger = store.data.customers[99]
    with store.ctx("notifications").db.write() as conn:
        conn.execute(
            mail_sink.update()
            .where(mail_sink.c.event_id == f"order-confirmation:{order_id}")
            .values(recipient_customer_id=stranger.id, recipient_email=stranger.email)
        )
    integrity = audit(databases(store))
    # The buyer got none, the stranger got theirs: one violation, and a notice of the missing.
    assert found(integrity) == {"confirmation_wrong_recipient": 1, "confirmation_missing": 1}
    [mail] = integrity.examples["confirmation_wrong_recipient"]
    assert mail["recipient_customer_id"] == stranger.id
    assert mail["buyer_customer_id"] == store.data.customers[3].id
    assert integrity.examples["confirmation_missing"] == [
        {"order_id": order_id, "customer_id": store.data.customers[3].id}
    ]


def test_mail_not_sent_yet_is_a_notice_not_a_violation(store):
    shop_cleanly(store)
    gift(store, "late-1", registry_index=5)  # its confirmation and alert not sent yet
    integrity = audit(databases(store))
    assert integrity.clean
    assert found(integrity) == {
        "outbox_queued": 2,
        "confirmation_missing": 1,
        "gift_alert_missing": 1,
    }
    events = {e["event_id"].split(":")[0] for e in integrity.examples["outbox_queued"]}
    assert events == {"order-confirmation", "gift"}


def test_poison_message_blocks_the_outbox_then_is_a_dead_letter(store):
    shop_cleanly(store)
    add_fault(store, POISON | {"probability": 1.0})  # plants the poison, the sender stalls on it
    try:
        gift(store, "stuck-1", registry_index=6)
        send_pending(store.ctx("notifications"))
        stalled = audit(databases(store))
    finally:
        reset_faults(store)
    assert stalled.clean
    assert found(stalled) == {
        "outbox_queued": 3,
        "confirmation_missing": 1,
        "gift_alert_missing": 1,
    }
    send_pending(store.ctx("notifications"))  # the correct sender parks the poison
    integrity = audit(databases(store))
    assert integrity.clean
    assert found(integrity) == {"outbox_dead_letter": 1}
    [letter] = integrity.examples["outbox_dead_letter"]
    assert letter["event_id"].startswith("poison:") and letter["error"]


def test_mail_examples_say_enough_to_look_it_up(store):
    misfire(store)
    integrity = audit(databases(store))
    with store.ctx("notifications").db.read() as conn:
        for example in integrity.examples["gift_alert_wrong_mail"]:
            row = conn.execute(
                sa.select(mail_sink).where(mail_sink.c.id == example["mail_id"])
            ).one()
            assert row.recipient_customer_id == example["recipient_customer_id"]
            assert row.event_id == example["event_id"]
