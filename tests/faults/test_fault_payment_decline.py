"""payment_decline: payment declines authorizations as a real decline (402, stored, replayed)."""

from __future__ import annotations

import pytest

from shopsim.services.checkout.attempts import order_id_for
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire

SPEC = {"type": "payment_decline", "target": "payment", "duration_s": 60.0}
DECLINED = "shopsim_payment_operations_total"


def _authorize(store, key: str, token: str = "tok_visa"):
    body = {"amount_cents": 1999, "currency": "USD", "card_token": token, "reference": "ref-1"}
    return store.client("payment").post(
        "/authorizations", json=body, headers={"Idempotency-Key": key}
    )


def _checkout(store, i: int, sku: str = "SKU-0001"):
    customer = store.data.customers[i]
    body = {
        "customer_id": customer.id,
        "idempotency_key": f"decline-{i}",
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
        "items": [{"sku": sku, "quantity": 2}],
    }
    return order_id_for(customer.id, body["idempotency_key"]), store.client("checkout").post(
        "/checkouts", json=body
    )


def _injections(store) -> float:
    return store.metric("payment", "shopsim_fault_injections_total", {"fault": "payment_decline"})


def _operations(store, outcome: str) -> float:
    return store.metric("payment", DECLINED, {"operation": "authorize", "outcome": outcome})


def test_payment_decline_at_p0_never_declines(chaos):
    add_fault(chaos, SPEC | {"probability": 0.0})
    statuses = {_authorize(chaos, f"p0-{i}").status_code for i in range(50)}
    assert statuses == {201}
    assert _injections(chaos) == 0
    assert _operations(chaos, "declined") == 0
    assert _operations(chaos, "approved") == 50


def test_payment_decline_at_p1_declines_every_checkout_and_charges_nothing(chaos):
    stock = chaos.client("inventory").get("/stock/SKU-0001").get_json()
    add_fault(chaos, SPEC | {"probability": 1.0})
    for i in range(5):
        order_id, response = _checkout(chaos, i)
        assert response.status_code == 402
        error = response.get_json()["error"]
        assert (error["code"], error["field"]) == ("card_declined", "card_token")
        charges = chaos.client("payment").get("/charges", query_string={"reference": order_id})
        assert charges.get_json()["charges"] == []
        hold = chaos.client("inventory").get(f"/reservations/{order_id}-1").get_json()
        assert hold["status"] == "released"
        order = chaos.client("checkout").get(f"/orders/{order_id}").get_json()
        assert order["status"] == "failed"
        assert order["authorization_id"] is None
    assert chaos.client("inventory").get("/stock/SKU-0001").get_json() == stock
    outcomes = "shopsim_checkout_orders_total"
    assert chaos.metric("checkout", outcomes, {"outcome": "declined"}) == 5
    assert chaos.metric("checkout", outcomes, {"outcome": "confirmed"}) == 0
    assert _operations(chaos, "declined") == 5
    assert _injections(chaos) == 5


@pytest.mark.parametrize("code", ["insufficient_funds", "do_not_honor", "processing_error"])
def test_payment_decline_answers_and_replays_like_a_real_decline(chaos, code):
    fault = add_fault(chaos, SPEC | {"probability": 1.0, "params": {"code": code}})
    injected = _authorize(chaos, "k-injected")
    assert injected.status_code == 402
    assert injected.get_json() == {
        "error": {
            "code": code,
            "message": f"the card was declined ({code})",
            "field": "card_token",
        }
    }
    if code == "insufficient_funds":  # byte for byte what the test card's real decline says
        real = _authorize(chaos, "k-real", token="tok_insufficient_funds")
        assert real.get_json() == injected.get_json()
    remove = chaos.client("payment").delete(
        f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
    )
    assert remove.status_code == 200
    again = _authorize(chaos, "k-injected")  # stored under the key: a retry is declined again
    assert (again.status_code, again.get_json()) == (402, injected.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _authorize(chaos, "k-fresh").status_code == 201


def test_payment_decline_rate_at_p03_is_binomial(chaos):
    add_fault(chaos, SPEC | {"probability": 0.3})
    n = 200
    statuses = [_authorize(chaos, f"rate-{i}").status_code for i in range(n)]
    declined = statuses.count(402)
    low, high = binomial_bounds(n, 0.3)
    assert low <= declined <= high, declined
    assert statuses.count(201) == n - declined
    assert _injections(chaos) == declined
    assert _operations(chaos, "declined") == declined
    assert _operations(chaos, "approved") == n - declined


def test_payment_decline_removal_and_expiry_restore_approvals(chaos):
    fault = add_fault(chaos, SPEC | {"probability": 1.0})
    assert _authorize(chaos, "before-removal").status_code == 402
    active = {"fault": "payment_decline", "target": "payment"}
    assert chaos.metric("payment", "shopsim_fault_active", active) == 1
    payment = chaos.client("payment")
    assert (
        payment.delete(f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK).status_code == 200
    )
    assert chaos.metric("payment", "shopsim_fault_active", active) == 0
    assert _authorize(chaos, "after-removal").status_code == 201

    fault = add_fault(chaos, SPEC | {"probability": 1.0})
    assert _authorize(chaos, "while-active").status_code == 402
    expire(chaos, fault["name"])
    assert _authorize(chaos, "after-expiry").status_code == 201
    assert chaos.metric("payment", "shopsim_fault_active", active) == 0
    order_id, response = _checkout(chaos, 7)
    assert response.status_code == 201
    charges = payment.get("/charges", query_string={"reference": order_id}).get_json()["charges"]
    assert len(charges) == 1


BAD_SPECS = [
    ({"params": {"code": "bogus"}}, "params.code"),
    ({"params": {"code": "card_declined", "extra": 1}}, "params.extra"),
    ({"target": "checkout"}, "target"),
    ({"direction": "outbound"}, "direction"),
]


def test_payment_decline_bad_spec_is_400_and_installs_nothing(chaos):
    payment = chaos.client("payment")
    for change, field in BAD_SPECS:
        response = payment.post("/_chaos/faults", json=SPEC | change, environ_base=LOOPBACK)
        assert response.status_code == 400, change
        assert response.get_json()["error"]["field"] == field
    listed = payment.get("/_chaos/faults", environ_base=LOOPBACK).get_json()
    assert listed["faults"] == []
