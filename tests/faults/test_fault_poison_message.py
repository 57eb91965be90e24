"""poison_message: an unrenderable message at the head of the outbox blocks every one behind it."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import select

from shopsim.services.notifications.tables import dead_letters, mail_sink, messages
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire
from tests.faults.outbox import AGE, DEPTH, enqueue, gauge, send

INJECTED = {"fault": "poison_message"}


def spec(probability: float, **changes: object) -> dict[str, object]:
    base = {"type": "poison_message", "target": "notifications", "duration_s": 60}
    return base | {"probability": probability} | changes


def injections(store) -> float:
    return store.metric("notifications", "shopsim_fault_injections_total", INJECTED)


def outbox(store) -> dict[str, tuple[str, str | None]]:
    """event_id -> (status, the error it was parked with) for every message."""
    stmt = select(messages.c.event_id, messages.c.status, dead_letters.c.error).outerjoin(
        dead_letters, dead_letters.c.message_id == messages.c.id
    )
    with store.ctx("notifications").db.read() as conn:
        return {r.event_id: (r.status, r.error) for r in conn.execute(stmt)}


def poison(store) -> tuple[str, str | None]:
    [(status, error)] = [v for k, v in outbox(store).items() if k.startswith("poison:")]
    return status, error


def mails_per_event(store) -> Counter[str]:
    with store.ctx("notifications").db.read() as conn:
        return Counter(conn.execute(select(mail_sink.c.event_id)).scalars())


def remove(store, name: str) -> None:
    response = store.client("notifications").delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def test_poison_message_blocks_the_head_until_removed(chaos):
    enqueue(chaos, "older")  # queued before the poison: still goes out
    fault = add_fault(chaos, spec(1.0))
    assert poison(chaos) == ("queued", None)
    for i in range(3):
        enqueue(chaos, f"e{i}")
    assert send(chaos) == 1  # oldest first: "older", then the poison stops the round
    assert mails_per_event(chaos) == {"older": 1}
    ages = []
    for _ in range(3):
        time.sleep(0.02)
        assert send(chaos) == 0  # round after round, the poison is retried first
        assert gauge(chaos, DEPTH) == 4.0  # the poison and the three behind it
        ages.append(gauge(chaos, AGE))
    assert ages == sorted(ages) and ages[-1] >= ages[0] + 0.04
    assert poison(chaos) == ("queued", None)
    assert mails_per_event(chaos) == {"older": 1}
    assert injections(chaos) == 4
    remove(chaos, fault["name"])
    assert send(chaos) == 3  # the correct sender parks the poison and carries on
    status, error = poison(chaos)
    assert status == "failed"
    assert error.startswith("AttributeError")
    assert send(chaos) == 0
    assert mails_per_event(chaos) == {"older": 1, "e0": 1, "e1": 1, "e2": 1}  # each once
    assert gauge(chaos, DEPTH) == 0.0
    assert gauge(chaos, AGE) == 0.0


def test_poison_message_at_p0_is_parked_at_once(chaos):
    add_fault(chaos, spec(0.0))
    for i in range(3):
        enqueue(chaos, f"e{i}")
    assert send(chaos) == 3
    assert poison(chaos)[0] == "failed"
    for i in range(3, 50):
        enqueue(chaos, f"e{i}")
        assert send(chaos) == 1
    assert injections(chaos) == 0
    assert mails_per_event(chaos) == {f"e{i}": 1 for i in range(50)}


def test_poison_message_draws_per_round(chaos):
    n = 200
    add_fault(chaos, spec(0.3))
    for _ in range(n):
        send(chaos)
    low, high = binomial_bounds(n, 0.3)
    assert low <= injections(chaos) <= high
    assert poison(chaos)[0] == "failed"  # the first round that did not fire parked it


def test_poison_message_every_round_blocks_at_p1(chaos):
    add_fault(chaos, spec(1.0))
    enqueue(chaos, "e0")
    assert [send(chaos) for _ in range(20)] == [0] * 20
    assert injections(chaos) == 20
    assert outbox(chaos)["e0"] == ("queued", None)


@pytest.mark.parametrize("how", ["removed", "expired"])
def test_poison_message_ends_and_the_outbox_drains(chaos, how):
    fault = add_fault(chaos, spec(1.0))
    enqueue(chaos, "e0")
    assert send(chaos) == 0
    if how == "removed":
        remove(chaos, fault["name"])
    else:
        expire(chaos, fault["name"])
    assert send(chaos) == 1
    assert poison(chaos)[0] == "failed"
    assert mails_per_event(chaos) == {"e0": 1}
    labels = {"fault": "poison_message", "target": "notifications"}
    assert chaos.metric("notifications", "shopsim_fault_active", labels) == 0.0


def test_each_start_plants_one_poison(chaos):
    first = add_fault(chaos, spec(1.0, name="poison-a"))
    add_fault(chaos, spec(1.0, name="poison-b"))
    planted = [k for k in outbox(chaos) if k.startswith("poison:")]
    assert len(planted) == 2
    remove(chaos, first["name"])
    assert len([k for k in outbox(chaos) if k.startswith("poison:")]) == 2  # data stays
