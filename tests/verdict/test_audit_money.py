"""The audit's money and stock checks, each against the damage that breaks its invariant: the
real logic faults where one exists (duplicate_charge, oversell_race), else the data harmed the
way a bug would harm it."""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa

from shopsim.services.checkout.attempts import order_id_for
from shopsim.services.checkout.tables import orders
from shopsim.services.inventory.tables import stock
from shopsim.services.notifications import send_pending
from shopsim.services.payment.tables import charges, idempotency
from shopsim.verdict.audit import EXPIRY_GRACE_S, audit
from tests.faults.conftest import add_fault, reset_faults
from tests.verdict.shop import databases, found, order, shop_cleanly

DUPLICATE = {"type": "duplicate_charge", "target": "checkout", "duration_s": 60.0}
OVERSELL = {
    "type": "oversell_race",
    "target": "inventory",
    "duration_s": 60.0,
    "params": {"window_ms": 1000.0},
}


def pay(store, reference: str, amount_cents: int, *, capture: bool = True) -> str:
    """Authorize (and capture) an amount at the gateway for `reference`, under fresh keys."""
    client = store.client("payment")
    body = {"amount_cents": amount_cents, "currency": "USD", "card_token": "tok_visa"}
    auth = client.post(
        "/authorizations",
        json=body | {"reference": reference},
        headers={"Idempotency-Key": f"{reference}-rogue-authorize"},
    )
    assert auth.status_code == 201, auth.get_json()
    auth_id = auth.get_json()["authorization_id"]
    if capture:
        captured = client.post(
            f"/authorizations/{auth_id}/capture",
            json={},
            headers={"Idempotency-Key": f"{reference}-rogue-capture"},
        )
        assert captured.status_code == 200, captured.get_json()
    return str(auth_id)


def write(store, service: str, *statements) -> None:
    """Harm the data as a bug would: run `statements` in the service's own database."""
    with store.ctx(service).db.write() as conn:
        for statement in statements:
            conn.execute(statement)


def charge_of(store, order_id: str):
    with store.ctx("payment").db.read() as conn:
        return conn.execute(sa.select(charges).where(charges.c.reference == order_id)).one()


def test_duplicate_charge_fault_is_counted_once_per_order(store):
    shop_cleanly(store)
    add_fault(store, DUPLICATE | {"probability": 1.0})
    try:
        placed = [
            order(store, 10 + i, f"dup-{i}", items=[{"sku": "SKU-0004", "quantity": 2}])
            for i in range(3)
        ]
    finally:
        reset_faults(store)
    assert [r.status_code for r in placed] == [201] * 3
    send_pending(store.ctx("notifications"))
    integrity = audit(databases(store))
    assert found(integrity) == {"duplicate_charge": 3}
    buyers = {
        r.get_json()["order_id"]: store.data.customers[10 + i].id for i, r in enumerate(placed)
    }
    total = placed[0].get_json()["total_cents"]  # the same basket each time
    for example in integrity.examples["duplicate_charge"]:
        assert example["customer_id"] == buyers[example["order_id"]]
        assert [c["amount_cents"] for c in example["charges"]] == [total, total]
        assert example["overcharged_cents"] == total
    assert {e["order_id"] for e in integrity.examples["duplicate_charge"]} == set(buyers)


def test_charges_for_failed_or_unknown_orders_are_money_without_an_order(store):
    shop_cleanly(store)
    declined = order(
        store, 7, "no-1", items=[{"sku": "SKU-0005", "quantity": 1}], card_token="tok_decline"
    )
    assert declined.status_code == 402
    failed_order = declined.get_json()  # the 402 body: the order id is the key's
    failed_id = order_id_for(store.data.customers[7].id, "no-1")
    assert failed_order["error"]["code"] == "card_declined"
    pay(store, failed_id, 1234)
    pay(store, "ord_nobody", 99)
    integrity = audit(databases(store))
    assert found(integrity) == {"charge_without_order": 2}
    examples = {e["order_id"]: e for e in integrity.examples["charge_without_order"]}
    assert examples[failed_id]["order_status"] == "failed"
    assert examples[failed_id]["amount_cents"] == 1234
    assert examples[failed_id]["customer_id"] == store.data.customers[7].id
    assert examples["ord_nobody"]["order_status"] is None


def test_a_confirmed_order_whose_charge_is_gone_has_no_charge(store):
    order_id = shop_cleanly(store)[0]
    charge = charge_of(store, order_id)
    write(
        store,
        "payment",
        charges.delete().where(charges.c.id == charge.id),
        idempotency.delete().where(idempotency.c.response_body.contains(charge.id)),
    )
    integrity = audit(databases(store))
    assert found(integrity) == {"order_without_charge": 1}
    [example] = integrity.examples["order_without_charge"]
    assert example["order_id"] == order_id and example["total_cents"] == charge.amount_cents


def test_a_charge_for_another_amount_than_its_order_is_counted(store):
    order_id = shop_cleanly(store)[1]
    charge = charge_of(store, order_id)
    write(
        store,
        "payment",
        charges.update()
        .where(charges.c.id == charge.id)
        .values(amount_cents=charge.amount_cents + 500),
    )
    integrity = audit(databases(store))
    assert found(integrity) == {"charge_amount_mismatch": 1}
    [example] = integrity.examples["charge_amount_mismatch"]
    assert (example["amount_cents"], example["total_cents"]) == (
        charge.amount_cents + 500,
        charge.amount_cents,
    )


def test_ledger_and_idempotency_store_must_account_for_each_other(store):
    first, second = shop_cleanly(store)[:2]
    lost_key = charge_of(store, first)
    write(
        store,
        "payment",
        idempotency.delete().where(idempotency.c.response_body.contains(lost_key.id)),
    )
    integrity = audit(databases(store))
    assert found(integrity) == {"unaccounted_charge": 1}
    assert integrity.examples["unaccounted_charge"][0]["problem"] == "no stored capture answer"
    lost_row = charge_of(store, second)
    write(store, "payment", charges.delete().where(charges.c.id == lost_row.id))
    integrity = audit(databases(store))
    assert found(integrity) == {"unaccounted_charge": 2, "order_without_charge": 1}
    problems = {e["charge_id"]: e["problem"] for e in integrity.examples["unaccounted_charge"]}
    assert problems[lost_row.id] == "not in the ledger"


def race(store, sku: str, buyers: int) -> list[int]:
    """`buyers` customers check out one unit of `sku` at the same moment."""
    barrier = threading.Barrier(buyers)
    statuses = [0] * buyers

    def buy(i: int) -> None:
        barrier.wait()
        response = order(store, 20 + i, f"race-{i}", items=[{"sku": sku, "quantity": 1}])
        statuses[i] = response.status_code

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def test_oversell_race_fault_is_counted_as_oversold(store):
    store.apps["checkout"], store.apps["inventory"], store.apps["payment"]  # built before racing
    add_fault(store, OVERSELL | {"probability": 1.0})
    try:
        statuses = race(store, "DB-0002", 12)
    finally:
        reset_faults(store)
    sold = statuses.count(201)
    assert sold > 5, statuses  # five units, more buyers paid for one
    send_pending(store.ctx("notifications"))
    integrity = audit(databases(store))
    assert found(integrity) == {"oversold": 1}
    [example] = integrity.examples["oversold"]
    assert example == {
        "sku": "DB-0002",
        "on_hand": 5 - sold,
        "reserved": 0,
        "oversold_units": sold - 5,
    }


def test_a_reserved_count_no_hold_explains_is_counted(store):
    shop_cleanly(store)
    write(
        store,
        "inventory",
        stock.update().where(stock.c.sku == "SKU-0050").values(reserved=stock.c.reserved + 2),
    )
    integrity = audit(databases(store))
    assert found(integrity) == {"reserved_mismatch": 1}
    assert integrity.examples["reserved_mismatch"] == [
        {"sku": "SKU-0050", "reserved": 2, "held_units": 0}
    ]


def test_a_hold_past_its_expiry_is_counted_once_the_sweeper_had_its_grace(store):
    shop_cleanly(store)
    body = {"reservation_id": "hold-1", "items": [{"sku": "SKU-0060", "quantity": 2}], "ttl_s": 1}
    held = store.client("inventory").post("/reservations", json=body)
    assert held.status_code == 201
    expires_at = held.get_json()["expires_at"]
    assert found(audit(databases(store), now=expires_at + EXPIRY_GRACE_S - 1)) == {}
    integrity = audit(databases(store), now=expires_at + EXPIRY_GRACE_S + 30)
    assert found(integrity) == {"expired_hold": 1}
    [example] = integrity.examples["expired_hold"]
    assert example["reservation_id"] == "hold-1"
    assert example["items"] == [{"sku": "SKU-0060", "quantity": 2}]
    assert example["expired_s_ago"] == EXPIRY_GRACE_S + 30


def test_an_authorization_left_open_after_its_checkout_is_a_notice(store):
    order_id = shop_cleanly(store)[0]
    auth_id = pay(store, order_id, 700, capture=False)
    integrity = audit(databases(store))
    assert integrity.clean
    assert found(integrity) == {"authorization_open": 1}
    [example] = integrity.examples["authorization_open"]
    assert (example["authorization_id"], example["order_status"]) == (auth_id, "confirmed")
    with store.ctx("checkout").db.read() as conn:
        row = conn.execute(sa.select(orders).where(orders.c.id == order_id)).one()
    assert example["customer_id"] == row.customer_id
    assert json.loads(json.dumps(integrity.examples))  # examples are plain JSON data
