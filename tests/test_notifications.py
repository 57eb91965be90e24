"""notifications: the outbox, the sender's audiences, the mail sink, contacts, and bad input."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, update

from shopsim.services.notifications import Recipient, gift_alert_audience, send_pending
from shopsim.services.notifications.sender import of as notifier_of
from shopsim.services.notifications.tables import (
    contacts,
    messages,
    metadata,
    registry_subscriptions,
)

MISSING = object()


def order_message(**changes: Any) -> dict[str, Any]:
    body = {
        "event_id": "order-confirmation:ord_1",
        "template": "order_confirmation",
        "recipient": {"customer_id": 7, "email": "ada@example.test", "name": "Ada Lovelace"},
        "data": {"order_id": "ord_1", "total_cents": 12345, "items": [{"sku": "SKU-0001"}]},
    }
    return _changed(body, changes)


def gift_message(registry_id: int, /, **changes: Any) -> dict[str, Any]:
    body = {
        "event_id": f"gift:ord_{registry_id}",
        "template": "gift_alert",
        "registry_id": registry_id,
        "data": {"registry_kind": "baby", "registry_title": "Ada's baby registry",
                 "buyer_name": "Grace Hopper", "items": [{"sku": "SKU-0002", "quantity": 1}]},
    }  # fmt: skip
    return _changed(body, changes)


def _changed(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for name, value in changes.items():
        if value is MISSING:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def enqueue(store, body: dict[str, Any]):
    return store.client("notifications").post("/messages", json=body)


def send(store, limit: int = 100) -> int:
    return send_pending(store.ctx("notifications"), limit=limit)


def mails(store, query: str = "") -> list[dict[str, Any]]:
    response = store.client("notifications").get(f"/mail?limit=1000&{query}")
    assert response.status_code == 200
    return response.get_json()["mail"]


def counts(store) -> dict[str, int]:
    with store.ctx("notifications").db.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def metric(store, name: str, template: str | None = None) -> float:
    labels = {"template": template} if template else {}
    return store.metric("notifications", name, labels)


def registry_without(store, customer_id: int):
    return next(r for r in store.data.registries if r.owner_customer_id != customer_id)


# --- order confirmations ---------------------------------------------------------------------


def test_order_confirmation_lands_in_the_mail_sink_with_first_name(store):
    response = enqueue(store, order_message())
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert body["message_id"].startswith("msg_")
    assert send(store) == 1
    [mail] = mails(store, "event_id=order-confirmation:ord_1")
    assert mail["message_id"] == body["message_id"]
    assert (mail["recipient_customer_id"], mail["recipient_email"]) == (7, "ada@example.test")
    assert mail["greeting"] == "Hi Ada,"
    assert mail["body"].startswith("Hi Ada,\n")
    assert mail["subject"] == "Your order ord_1 is confirmed"
    assert "Total: $123.45" in mail["body"]
    assert metric(store, "shopsim_mail_sent_total", "order_confirmation") == 1.0
    assert metric(store, "shopsim_notifications_enqueued_total", "order_confirmation") == 1.0


@pytest.mark.parametrize("name", ["", "   ", MISSING])
def test_order_confirmation_without_a_name_greets_customer(store, name):
    recipient = _changed({"customer_id": 7, "email": "a@example.test"}, {"name": name})
    enqueue(store, order_message(recipient=recipient))
    send(store)
    [mail] = mails(store)
    assert mail["greeting"] == "Hi Customer,"
    assert mail["body"].startswith("Hi Customer,\n")


def test_order_id_falls_back_to_the_event_id(store):
    enqueue(store, order_message(data={}))
    send(store)
    [mail] = mails(store)
    assert mail["subject"] == "Your order ord_1 is confirmed"
    assert "Total" not in mail["body"]


# --- gift alerts -----------------------------------------------------------------------------


def test_gift_alert_goes_to_the_registry_owner_only(store):
    registry = store.data.registries[0]
    owner = store.data.customers[registry.owner_customer_id - 1]
    data = {"registry_kind": registry.kind, "registry_title": registry.title, "buyer_name": "Bo"}
    enqueue(store, gift_message(registry.id, data=data))
    assert send(store) == 1
    sent = mails(store, "template=gift_alert")
    assert {m["recipient_customer_id"] for m in sent} == {owner.id}
    [mail] = sent
    assert mail["recipient_email"] == owner.email
    assert mail["greeting"] == f"Hi {owner.first_name},"
    assert mail["subject"] == f"A gift is on the way from your {registry.kind} registry"
    assert "Bo bought a gift" in mail["body"]
    assert metric(store, "shopsim_mail_sent_total", "gift_alert") == 1.0


def test_customers_without_a_registry_never_get_gift_alerts(store):
    owner_of = {r.id: r.owner_customer_id for r in store.data.registries}
    for registry_id in owner_of:
        assert enqueue(store, gift_message(registry_id)).status_code == 202
    assert send(store) == len(owner_of)
    sent = mails(store, "template=gift_alert")
    assert len(sent) == len(owner_of)
    assert all(
        m["recipient_customer_id"] == owner_of[int(m["event_id"].removeprefix("gift:ord_"))]
        for m in sent
    )
    without = {c.id for c in store.data.customers} - set(owner_of.values())
    assert without
    assert not {m["recipient_customer_id"] for m in sent} & without


def test_gift_alert_audience_is_exactly_the_registry_subscribers(store):
    registry = store.data.registries[0]
    friend = registry_without(store, registry.owner_customer_id).owner_customer_id
    client = store.client("notifications")
    subscription = {"registry_id": registry.id, "customer_id": friend}
    assert client.post("/registry-subscriptions", json=subscription).status_code == 201
    with store.ctx("notifications").db.read() as conn:
        audience = gift_alert_audience(conn, registry.id)
    assert {r.customer_id for r in audience} == {registry.owner_customer_id, friend}


def test_gift_alert_for_a_registry_without_subscribers_mails_no_one(store):
    enqueue(store, gift_message(9_999))
    assert send(store) == 1
    assert mails(store) == []
    assert counts(store)["notifications_mail_sink"] == 0


def test_sender_uses_the_audience_in_the_notifier_and_mails_each_person_once(store):
    # The seam a fault uses: a variant that loses the registry filter (and lists people twice).
    def everyone_twice(conn, registry_id):
        rows = conn.execute(select(contacts).order_by(contacts.c.customer_id).limit(3)).all()
        return [Recipient(r.customer_id, r.email, r.first_name) for r in rows * 2]

    notifier_of(store.ctx("notifications")).audience = everyone_twice
    enqueue(store, gift_message(store.data.registries[0].id))
    send(store)
    assert [m["recipient_customer_id"] for m in mails(store)] == [1, 2, 3]


# --- the sender ------------------------------------------------------------------------------


def test_sending_twice_sends_nothing_twice(store):
    enqueue(store, order_message())
    enqueue(store, order_message())
    assert send(store) == 1
    assert send(store) == 0
    assert len(mails(store)) == 1
    assert metric(store, "shopsim_mail_sent_total", "order_confirmation") == 1.0


def test_a_resent_message_mails_no_one_twice(store):
    registry = store.data.registries[0]
    enqueue(store, gift_message(registry.id))
    send(store)
    with store.ctx("notifications").db.write() as conn:
        conn.execute(update(messages).values(status="queued", sent_at=None))
    assert send(store) == 1
    assert [m["recipient_customer_id"] for m in mails(store)] == [registry.owner_customer_id]


def test_sender_sends_oldest_first_within_its_limit(store):
    enqueue(store, order_message(event_id="newer"))
    enqueue(store, order_message(event_id="older"))
    with store.ctx("notifications").db.write() as conn:
        conn.execute(update(messages).where(messages.c.event_id == "older").values(created_at=1.0))
    assert send(store, limit=1) == 1
    assert [m["event_id"] for m in mails(store)] == ["older"]


def test_outbox_depth_and_age_gauges_move(store):
    assert metric(store, "shopsim_outbox_depth") == 0.0
    assert metric(store, "shopsim_outbox_oldest_message_age_seconds") == 0.0
    enqueue(store, order_message(event_id="a"))
    enqueue(store, order_message(event_id="b"))
    with store.ctx("notifications").db.write() as conn:
        conn.execute(update(messages).values(created_at=time.time() - 30))
    assert metric(store, "shopsim_outbox_depth") == 2.0
    assert metric(store, "shopsim_outbox_oldest_message_age_seconds") >= 30.0
    outbox = store.client("notifications").get("/outbox").get_json()
    assert outbox["depth"] == 2
    assert outbox["oldest_age_s"] >= 30.0
    send(store)
    assert metric(store, "shopsim_outbox_depth") == 0.0
    assert metric(store, "shopsim_outbox_oldest_message_age_seconds") == 0.0
    assert store.client("notifications").get("/outbox").get_json() == {
        "depth": 0,
        "oldest_age_s": 0.0,
    }


def test_outbox_gauges_report_nan_when_the_database_is_away(store, monkeypatch):
    class Away:
        def read(self):
            raise RuntimeError("database is away")

    monkeypatch.setattr(store.ctx("notifications"), "db", Away())
    assert math.isnan(metric(store, "shopsim_outbox_depth"))
    assert math.isnan(metric(store, "shopsim_outbox_oldest_message_age_seconds"))


# --- enqueue idempotency ---------------------------------------------------------------------


def test_same_event_again_is_200_with_the_same_body(store):
    first = enqueue(store, order_message())
    again = enqueue(store, order_message())
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert counts(store)["notifications_messages"] == 1
    assert metric(store, "shopsim_notifications_enqueued_total", "order_confirmation") == 1.0


def test_concurrent_enqueues_of_one_event_make_one_message(store):
    start = threading.Barrier(8)
    statuses: list[int] = []

    def worker() -> None:
        client = store.client("notifications")
        start.wait()
        statuses.append(client.post("/messages", json=order_message()).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 7 + [202]
    assert counts(store)["notifications_messages"] == 1


def test_same_event_with_another_payload_is_409(store):
    enqueue(store, order_message())
    before = counts(store)
    response = enqueue(store, order_message(data={"order_id": "ord_1", "total_cents": 1}))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("idempotency_key_reused", "event_id")
    assert counts(store) == before


# --- contacts, subscriptions, seed, mail queries ---------------------------------------------


def test_seed_gives_every_customer_a_contact_and_every_owner_a_subscription(store):
    with store.ctx("notifications").db.read() as conn:
        subscribed = {tuple(r) for r in conn.execute(select(registry_subscriptions))}
        contact = conn.execute(select(contacts).where(contacts.c.customer_id == 1)).one()
    assert subscribed == {(r.id, r.owner_customer_id) for r in store.data.registries}
    first = store.data.customers[0]
    assert (contact.email, contact.first_name) == (first.email, first.first_name)
    assert counts(store)["notifications_contacts"] == len(store.data.customers)


def test_contact_upsert_creates_then_replaces(store):
    client = store.client("notifications")
    contact = {"customer_id": 5000, "email": "new@example.test", "first_name": "Hedy"}
    assert client.post("/contacts", json=contact).status_code == 201
    changed = contact | {"email": "moved@example.test"}
    response = client.post("/contacts", json=changed)
    assert response.status_code == 200
    assert response.get_json() == changed
    with store.ctx("notifications").db.read() as conn:
        row = conn.execute(select(contacts).where(contacts.c.customer_id == 5000)).one()
    assert row.email == "moved@example.test"


def test_registry_subscription_is_idempotent(store):
    client = store.client("notifications")
    subscription = {"registry_id": 1, "customer_id": 5000}
    assert client.post("/registry-subscriptions", json=subscription).status_code == 201
    before = counts(store)
    response = client.post("/registry-subscriptions", json=subscription)
    assert response.status_code == 200
    assert response.get_json() == subscription
    assert counts(store) == before


def test_mail_filters_by_template_customer_and_limit(store):
    registry = store.data.registries[0]
    enqueue(store, order_message())
    enqueue(store, gift_message(registry.id))
    send(store)
    assert [m["template"] for m in mails(store, "template=gift_alert")] == ["gift_alert"]
    assert [m["recipient_customer_id"] for m in mails(store, "customer_id=7")] == [7]
    assert len(store.client("notifications").get("/mail?limit=1").get_json()["mail"]) == 1


# --- bad input writes nothing ----------------------------------------------------------------


def _with_recipient(**changes: Any) -> dict[str, Any]:
    recipient = {"customer_id": 7, "email": "ada@example.test", "name": "Ada"}
    return order_message(recipient=_changed(recipient, changes))


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{x", 400, "body"),
        ("[]", 400, "body"),
        ("", 400, "body"),
        (order_message(event_id=MISSING), 422, "event_id"),
        (order_message(event_id=""), 422, "event_id"),
        (order_message(event_id="e" * 201), 422, "event_id"),
        (order_message(event_id=5), 422, "event_id"),
        (order_message(template="sms"), 422, "template"),
        (order_message(template=MISSING), 422, "template"),
        (order_message(recipient=MISSING), 422, "recipient"),
        (order_message(recipient=None), 422, "recipient"),
        (order_message(recipient="ada@example.test"), 422, "recipient"),
        (_with_recipient(customer_id=0), 422, "recipient.customer_id"),
        (_with_recipient(customer_id="7"), 422, "recipient.customer_id"),
        (_with_recipient(email="nope"), 422, "recipient.email"),
        (_with_recipient(email=MISSING), 422, "recipient.email"),
        (_with_recipient(name="n" * 201), 422, "recipient.name"),
        (_with_recipient(phone="555"), 422, "recipient.phone"),
        (gift_message(1, registry_id=MISSING), 422, "registry_id"),
        (gift_message(1, registry_id=0), 422, "registry_id"),
        (gift_message(1, registry_id="1"), 422, "registry_id"),
        (gift_message(1, registry_id=2**31), 422, "registry_id"),
        (order_message(data=[1]), 422, "data"),
        (order_message(data={f"k{i}": i for i in range(51)}), 422, "data"),
        (order_message(data={"total_cents": "12"}), 422, "data.total_cents"),
        (order_message(data={"total_cents": -1}), 422, "data.total_cents"),
        (order_message(data={"order_id": ""}), 422, "data.order_id"),
        (order_message(data={"items": "SKU-0001"}), 422, "data.items"),
        (gift_message(1, data={"buyer_name": 5}), 422, "data.buyer_name"),
        (gift_message(1, data={"registry_kind": "k" * 51}), 422, "data.registry_kind"),
        (order_message(priority="high"), 422, "priority"),
    ],
)
def test_enqueue_bad_input_writes_nothing(store, body, status, field):
    before = counts(store)
    text = body if isinstance(body, str) else json.dumps(body)
    response = store.client("notifications").post(
        "/messages", data=text, content_type="application/json"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert counts(store) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/contacts", {"customer_id": 0, "email": "a@b.c", "first_name": "A"}, "customer_id"),
        ("/contacts", {"customer_id": "9", "email": "a@b.c", "first_name": "A"}, "customer_id"),
        ("/contacts", {"customer_id": 9, "email": "a.b.c", "first_name": "A"}, "email"),
        ("/contacts", {"customer_id": 9, "email": "a@b.c"}, "first_name"),
        ("/contacts", {"customer_id": 9, "email": "a@b.c", "first_name": "A" * 101}, "first_name"),
        ("/contacts", {"customer_id": 9, "email": "a@b.c", "first_name": "A", "x": 1}, "x"),
        ("/registry-subscriptions", {"registry_id": 0, "customer_id": 9}, "registry_id"),
        ("/registry-subscriptions", {"registry_id": 1, "customer_id": "9"}, "customer_id"),
        ("/registry-subscriptions", {"registry_id": 1}, "customer_id"),
        ("/registry-subscriptions", {"registry_id": 1, "customer_id": 2**31}, "customer_id"),
    ],
)
def test_contact_and_subscription_bad_input_writes_nothing(store, path, body, field):
    before = counts(store)
    response = store.client("notifications").post(path, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert counts(store) == before


@pytest.mark.parametrize("path", ["/contacts", "/registry-subscriptions"])
@pytest.mark.parametrize("text", ["{oops", "[1]", ""])
def test_contact_and_subscription_malformed_json_is_400(store, path, text):
    before = counts(store)
    response = store.client("notifications").post(path, data=text, content_type="application/json")
    assert response.status_code == 400
    assert counts(store) == before


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=5000", "customer_id=abc", "customer_id=0", "template=sms", "z=1"]
)
def test_mail_bad_query_is_422(store, query):
    assert store.client("notifications").get(f"/mail?{query}").status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/messages"),
        ("post", "/outbox"),
        ("delete", "/mail"),
        ("get", "/contacts"),
        ("put", "/registry-subscriptions"),
    ],
)
def test_wrong_method_is_405(store, method, path):
    response = getattr(store.client("notifications"), method)(path)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/messages", "/contacts", "/registry-subscriptions"])
def test_oversized_body_is_413_and_writes_nothing(store, path):
    before = counts(store)
    big = '{"event_id": "' + "e" * (store.settings.max_body_bytes + 10) + '"}'
    response = store.client("notifications").post(path, data=big, content_type="application/json")
    assert response.status_code == 413
    assert counts(store) == before
