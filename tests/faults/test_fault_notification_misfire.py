"""notification_misfire: gift alerts lose their registry filter; everyone is "Hi Customer,"."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from shopsim.services.notifications import send_pending
from shopsim.services.notifications.tables import mail_sink
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire

INJECTED = {"fault": "notification_misfire"}


def spec(probability: float, **changes: object) -> dict[str, object]:
    base = {"type": "notification_misfire", "target": "notifications", "duration_s": 60}
    return base | {"probability": probability} | changes


def injections(store) -> float:
    return store.metric("notifications", "shopsim_fault_injections_total", INJECTED)


def gift_purchase(store, key: str = "gift-1") -> tuple[str, object]:
    """A customer buys a gift from registry 1 through checkout; returns (event_id, registry)."""
    registry = store.data.registries[0]
    buyer = next(c for c in store.data.customers if c.id != registry.owner_customer_id)
    body = {
        "customer_id": buyer.id,
        "idempotency_key": key,
        "card_token": "tok_visa",
        "email": buyer.email,
        "name": buyer.name,
        "items": [{"sku": registry.items[0][0], "quantity": 1}],
        "registry_id": registry.id,
    }
    response = store.client("checkout").post("/checkouts", json=body)
    assert response.status_code == 201, response.get_json()
    send_pending(store.ctx("notifications"))
    return f"gift:{response.get_json()['order_id']}", registry


def mail_by_event(store) -> dict[str, list[dict[str, object]]]:
    with store.ctx("notifications").db.read() as conn:
        rows = conn.execute(select(mail_sink).order_by(mail_sink.c.id)).all()
    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        out[row.event_id].append(dict(row._mapping))
    return out


def errors_and_failures(store) -> dict[str, float]:
    """Every service's 4xx/5xx responses and failed dependency calls (none expected)."""
    out: dict[str, float] = {}
    for service in store.apps:
        for metric in store.ctx(service).metrics.registry.collect():
            for sample in metric.samples:
                bad_status = sample.name == "shopsim_http_requests_total" and (
                    int(sample.labels["status"]) >= 400
                )
                bad_call = sample.name == "shopsim_dependency_requests_total" and (
                    sample.labels["outcome"] != "success"
                )
                if (bad_status or bad_call) and sample.value:
                    out[f"{service} {sample.name} {sample.labels}"] = sample.value
    return out


def assert_owner_only(store, event_id: str, registry) -> None:
    owner = store.data.customers[registry.owner_customer_id - 1]
    [mail] = mail_by_event(store)[event_id]
    assert mail["recipient_customer_id"] == owner.id
    assert mail["greeting"] == f"Hi {owner.first_name},"


def test_notification_misfire_at_p1_mails_everyone_quietly(chaos):
    add_fault(chaos, spec(1.0))
    event_id, registry = gift_purchase(chaos)
    sent = mail_by_event(chaos)[event_id]
    recipients = {m["recipient_customer_id"] for m in sent}
    owners = {r.owner_customer_id for r in chaos.data.registries}
    assert recipients == {c.id for c in chaos.data.customers}  # every customer
    assert len(sent) == len(chaos.data.customers)  # once each
    assert recipients - owners  # including people who own no registry at all
    assert {m["greeting"] for m in sent} == {"Hi Customer,"}
    assert all(registry.title in m["body"] for m in sent)  # someone else's registry, in full
    assert injections(chaos) == 1  # the gift alert drew; the order confirmation did not
    # Quietly wrong: no service answered an error and no call between them failed.
    assert errors_and_failures(chaos) == {}
    assert chaos.metric(
        "notifications", "shopsim_mail_sent_total", {"template": "gift_alert"}
    ) == len(chaos.data.customers)


def test_notification_misfire_at_p0_mails_the_owner_only(chaos):
    add_fault(chaos, spec(0.0))
    event_id, registry = gift_purchase(chaos)
    assert_owner_only(chaos, event_id, registry)
    assert injections(chaos) == 0
    assert errors_and_failures(chaos) == {}


def test_notification_misfire_draws_per_gift_alert(chaos):
    n = 200
    add_fault(chaos, spec(0.3))
    client = chaos.client("notifications")
    owner_of = {r.id: r.owner_customer_id for r in chaos.data.registries}
    registry_ids = list(owner_of)
    for i in range(n):
        registry_id = registry_ids[i % len(registry_ids)]
        body = {"event_id": f"gift:p{i}", "template": "gift_alert", "registry_id": registry_id}
        assert client.post("/messages", json=body).status_code == 202
        order = {
            "event_id": f"order:p{i}",
            "template": "order_confirmation",
            "recipient": {"customer_id": 1, "email": "a@example.test", "name": "Ann"},
        }
        assert client.post("/messages", json=order).status_code == 202
    assert send_pending(chaos.ctx("notifications"), limit=2 * n) == 2 * n
    by_event = mail_by_event(chaos)
    misfired = 0
    for i in range(n):
        recipients = [m["recipient_customer_id"] for m in by_event[f"gift:p{i}"]]
        if len(recipients) > 1:
            assert len(recipients) == len(chaos.data.customers)
            misfired += 1
        else:
            assert recipients == [owner_of[registry_ids[i % len(registry_ids)]]]
        assert len(by_event[f"order:p{i}"]) == 1  # confirmations are never affected
    low, high = binomial_bounds(n, 0.3)
    assert low <= misfired <= high
    assert injections(chaos) == misfired


@pytest.mark.parametrize("how", ["removed", "expired"])
def test_notification_misfire_ends_and_alerts_reach_the_owner_again(chaos, how):
    fault = add_fault(chaos, spec(1.0, duration_s=60))
    event_id, _ = gift_purchase(chaos, key="during")
    assert len(mail_by_event(chaos)[event_id]) == len(chaos.data.customers)
    if how == "removed":
        response = chaos.client("notifications").delete(
            f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
        )
        assert response.status_code == 200
    else:
        expire(chaos, fault["name"])
    event_id, registry = gift_purchase(chaos, key="after")
    assert_owner_only(chaos, event_id, registry)
    assert injections(chaos) == 1
