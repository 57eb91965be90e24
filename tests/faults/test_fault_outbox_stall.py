"""outbox_stall: sender rounds send nothing; the outbox backs up, then drains exactly once."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from shopsim.services.notifications.tables import mail_sink, messages
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire
from tests.faults.outbox import AGE, DEPTH, enqueue, gauge, send

INJECTED = {"fault": "outbox_stall"}


def spec(probability: float, **changes: object) -> dict[str, object]:
    base = {"type": "outbox_stall", "target": "notifications", "duration_s": 60}
    return base | {"probability": probability} | changes


def injections(store) -> float:
    return store.metric("notifications", "shopsim_fault_injections_total", INJECTED)


def statuses(store) -> Counter[str]:
    with store.ctx("notifications").db.read() as conn:
        return Counter(conn.execute(select(messages.c.status)).scalars())


def mails_per_event(store) -> Counter[str]:
    with store.ctx("notifications").db.read() as conn:
        return Counter(conn.execute(select(mail_sink.c.event_id)).scalars())


def remove(store, name: str) -> None:
    response = store.client("notifications").delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def test_outbox_stall_backs_up_the_outbox_then_drains_exactly_once(chaos):
    fault = add_fault(chaos, spec(1.0))
    for i in range(5):
        enqueue(chaos, f"e{i}")
    assert send(chaos) == 0
    assert gauge(chaos, DEPTH) == 5.0
    first_age = gauge(chaos, AGE)
    for i in range(5, 8):  # enqueueing still works: callers notice nothing
        enqueue(chaos, f"e{i}")
    time.sleep(0.05)
    assert [send(chaos) for _ in range(3)] == [0, 0, 0]
    assert gauge(chaos, DEPTH) == 8.0
    assert gauge(chaos, AGE) >= first_age + 0.05
    assert statuses(chaos) == {"queued": 8}
    assert mails_per_event(chaos) == {}
    assert injections(chaos) == 4  # one per round
    remove(chaos, fault["name"])
    assert send(chaos) == 8
    assert send(chaos) == 0
    assert mails_per_event(chaos) == {f"e{i}": 1 for i in range(8)}  # none lost, none twice
    assert statuses(chaos) == {"sent": 8}
    assert gauge(chaos, DEPTH) == 0.0
    assert gauge(chaos, AGE) == 0.0
    labels = {"template": "order_confirmation"}
    assert chaos.metric("notifications", "shopsim_mail_sent_total", labels) == 8.0


def test_outbox_stall_at_p0_never_stalls(chaos):
    add_fault(chaos, spec(0.0))
    for i in range(50):
        enqueue(chaos, f"e{i}")
        assert send(chaos) == 1
    assert injections(chaos) == 0
    assert gauge(chaos, DEPTH) == 0.0


def test_outbox_stall_draws_per_round(chaos):
    n = 200
    fault = add_fault(chaos, spec(0.3))
    stalled = 0
    for i in range(n):
        enqueue(chaos, f"e{i}")  # every round has something to send
        if send(chaos) == 0:
            stalled += 1
    low, high = binomial_bounds(n, 0.3)
    assert low <= stalled <= high
    assert injections(chaos) == stalled
    remove(chaos, fault["name"])
    send(chaos)
    assert mails_per_event(chaos) == {f"e{i}": 1 for i in range(n)}


def test_outbox_stall_expires_by_itself(chaos):
    fault = add_fault(chaos, spec(1.0))
    enqueue(chaos, "e0")
    assert send(chaos) == 0
    assert gauge(chaos, DEPTH) == 1.0
    expire(chaos, fault["name"])
    assert send(chaos) == 1
    assert gauge(chaos, DEPTH) == 0.0
    labels = {"fault": "outbox_stall", "target": "notifications"}
    assert chaos.metric("notifications", "shopsim_fault_active", labels) == 0.0


def test_outbox_stall_is_inbound_only(chaos):
    response = chaos.client("notifications").post(
        "/_chaos/faults", json=spec(1.0, direction="outbound"), environ_base=LOOPBACK
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "direction"
