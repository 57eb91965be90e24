"""duplicate_charge: checkout pays without its idempotency keys and pays again: two charges.

The damage is read where an audit would find it: payment's ledger (GET /charges?reference=
<order_id>) holds two charges for one order, while checkout confirmed (and booked the revenue of)
the order once. The rate at p=0.3 is checked on N=200 draws of the saga's switch point
(`duplicate_charge.fires`, the one call the saga makes per checkout) plus 40 real checkouts, each of
which must show two charges exactly when the switch fired: 200 full checkouts would take ~8 s.
"""

from __future__ import annotations

from typing import Any

from shopsim.services.checkout import duplicate_charge
from shopsim.services.checkout.attempts import order_id_for
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire

SPEC = {"type": "duplicate_charge", "target": "checkout", "duration_s": 60.0}
INJECTIONS = "shopsim_fault_injections_total"
FAULT = {"fault": "duplicate_charge"}


def _checkout(store, i: int, quantity: int = 1) -> tuple[str, Any]:
    customer = store.data.customers[i % len(store.data.customers)]
    body = {
        "customer_id": customer.id,
        "idempotency_key": f"dup-{i}",
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
        "items": [{"sku": "SKU-0003", "quantity": quantity}],
    }
    order_id = order_id_for(customer.id, body["idempotency_key"])
    return order_id, store.client("checkout").post("/checkouts", json=body)


def _charges(store, order_id: str) -> list[dict[str, Any]]:
    response = store.client("payment").get("/charges", query_string={"reference": order_id})
    return response.get_json()["charges"]


def _injections(store) -> float:
    return store.metric("checkout", INJECTIONS, FAULT)


TWICE = "shopsim_payment_references_charged_twice"


def test_payment_counts_the_orders_its_ledger_charged_twice(chaos):
    assert chaos.metric("payment", TWICE, {}) == 0
    for i in range(2):
        assert _checkout(chaos, i)[1].status_code == 201
    assert chaos.metric("payment", TWICE, {}) == 0  # keyed: once each
    add_fault(chaos, SPEC | {"probability": 1.0})
    for i in range(2, 5):
        assert _checkout(chaos, i)[1].status_code == 201
    assert chaos.metric("payment", TWICE, {}) == 3


def test_duplicate_charge_at_p0_charges_each_order_once(chaos):
    add_fault(chaos, SPEC | {"probability": 0.0})
    for i in range(15):
        order_id, response = _checkout(chaos, i)
        assert response.status_code == 201
        assert len(_charges(chaos, order_id)) == 1
    assert _injections(chaos) == 0


def test_duplicate_charge_at_p1_charges_every_order_twice(chaos):
    on_hand = chaos.client("inventory").get("/stock/SKU-0003").get_json()["on_hand"]
    add_fault(chaos, SPEC | {"probability": 1.0})
    paid = 0
    for i in range(5):
        order_id, response = _checkout(chaos, i, quantity=2)
        assert response.status_code == 201
        total = response.get_json()["total_cents"]
        charges = _charges(chaos, order_id)
        assert [c["amount_cents"] for c in charges] == [total, total]  # the customer pays twice
        first, second = (c["authorization_id"] for c in charges)
        assert first != second  # two payments the gateway could not tell apart from new ones
        order = chaos.client("checkout").get(f"/orders/{order_id}").get_json()
        assert order["status"] == "confirmed"  # checkout believes all is well...
        assert (order["authorization_id"], order["charge_id"]) == (
            second,
            charges[1]["charge_id"],
        )  # ...and its record knows only the second charge
        paid += total
    assert _injections(chaos) == 5
    captures = {"operation": "capture", "outcome": "approved"}
    assert chaos.metric("payment", "shopsim_payment_operations_total", captures) == 10
    booked = chaos.metric("checkout", "shopsim_checkout_revenue_dollars_total")
    assert booked * 100 == paid  # the revenue is booked once, the money taken twice
    stock = chaos.client("inventory").get("/stock/SKU-0003").get_json()
    assert stock["on_hand"] == on_hand - 10 and stock["reserved"] == 0  # stock moves once


def test_duplicate_charge_rate_at_p03_is_binomial(chaos):
    add_fault(chaos, SPEC | {"probability": 0.3})
    ctx = chaos.ctx("checkout")
    n = 200
    fired = sum(duplicate_charge.fires(ctx) for _ in range(n))
    low, high = binomial_bounds(n, 0.3)
    assert low <= fired <= high, fired
    assert _injections(chaos) == fired
    # Real checkouts: two charges exactly when the switch fired, one otherwise.
    doubled = 0
    for i in range(40):
        before = _injections(chaos)
        order_id, response = _checkout(chaos, i)
        assert response.status_code == 201
        fired_now = _injections(chaos) - before
        assert len(_charges(chaos, order_id)) == 1 + fired_now
        doubled += int(fired_now)
    assert 0 < doubled < 40


def _resilient(store) -> None:
    """Retries that always go (no budget, no breaker): the reset fault alone cannot sink a call."""
    change = {
        "retries": 10,
        "backoff": "none",
        "breaker_enabled": False,
        "retry_budget_min_per_s": 10_000.0,
    }
    body = {"dependencies": {"payment": change}}
    response = store.client("checkout").put("/_chaos/resilience", json=body, environ_base=LOOPBACK)
    assert response.status_code == 200


RESET = {
    "type": "reset",
    "target": "payment",
    "direction": "outbound",
    "probability": 0.5,
    "duration_s": 60.0,
}


def test_reset_alone_is_absorbed_by_the_idempotency_keys(chaos):
    _resilient(chaos)
    add_fault(chaos, RESET)
    counts = []
    for i in range(8):
        order_id, response = _checkout(chaos, i)
        assert response.status_code == 201, response.get_json()
        counts.append(len(_charges(chaos, order_id)))
    assert counts == [1] * 8
    assert chaos.metric("checkout", INJECTIONS, {"fault": "reset"}) > 0  # answers were lost...
    replays = sum(
        chaos.metric("payment", "shopsim_payment_idempotent_replays_total", {"operation": op})
        for op in ("authorize", "capture")
    )
    assert replays > 0  # ...and their retries were answered from the key, not paid again


def test_duplicate_charge_with_reset_still_charges_twice(chaos):
    _resilient(chaos)
    add_fault(chaos, RESET)
    add_fault(chaos, SPEC | {"probability": 1.0})
    counts = []
    for i in range(8):
        order_id, response = _checkout(chaos, i)
        assert response.status_code == 201, response.get_json()
        counts.append(len(_charges(chaos, order_id)))
    assert chaos.metric("checkout", INJECTIONS, {"fault": "reset"}) > 0
    assert counts == [2] * 8


def test_duplicate_charge_removal_and_expiry_restore_one_charge(chaos):
    fault = add_fault(chaos, SPEC | {"probability": 1.0})
    order_id, _ = _checkout(chaos, 1)
    assert len(_charges(chaos, order_id)) == 2
    checkout = chaos.client("checkout")
    assert (
        checkout.delete(f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK).status_code == 200
    )
    order_id, _ = _checkout(chaos, 2)
    assert len(_charges(chaos, order_id)) == 1
    fault = add_fault(chaos, SPEC | {"probability": 1.0})
    order_id, _ = _checkout(chaos, 3)
    assert len(_charges(chaos, order_id)) == 2
    expire(chaos, fault["name"])
    order_id, _ = _checkout(chaos, 4)
    assert len(_charges(chaos, order_id)) == 1
    active = {"fault": "duplicate_charge", "target": "checkout"}
    assert chaos.metric("checkout", "shopsim_fault_active", active) == 0


def test_duplicate_charge_declined_card_is_still_declined_and_charges_nothing(chaos):
    add_fault(chaos, SPEC | {"probability": 1.0})
    customer = chaos.data.customers[9]
    body = {
        "customer_id": customer.id,
        "idempotency_key": "dup-declined",
        "card_token": "tok_decline",
        "email": customer.email,
        "name": customer.name,
        "items": [{"sku": "SKU-0003", "quantity": 1}],
    }
    response = chaos.client("checkout").post("/checkouts", json=body)
    assert response.status_code == 402
    assert _charges(chaos, order_id_for(customer.id, "dup-declined")) == []


def test_duplicate_charge_only_targets_checkout(chaos):
    for target in ("payment", "inventory"):
        spec = SPEC | {"target": target}
        response = chaos.client("checkout").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
        assert response.status_code == 400
        assert response.get_json()["error"]["field"] == "target"
