"""inventory's stock gauges: units reserved, and units oversold (0 unless the invariant broke)."""

from __future__ import annotations

from shopsim.metrics.catalogue.business import UNITS_OVERSOLD, UNITS_RESERVED
from shopsim.metrics.catalogue.common import FAULT_INJECTIONS
from tests.faults.conftest import add_fault, reset_faults
from tests.faults.test_fault_oversell_race import race_for, spec, stock_of


def oversold(store) -> float:
    return store.metric("inventory", UNITS_OVERSOLD.name)


def reserved(store) -> float:
    return store.metric("inventory", UNITS_RESERVED.name)


def reserve(store, rid: str, sku: str, quantity: int):
    body = {"reservation_id": rid, "items": [{"sku": sku, "quantity": quantity}]}
    return store.client("inventory").post("/reservations", json=body)


def test_reserved_units_follow_holds_commits_and_releases(store):
    assert reserved(store) == 0 and oversold(store) == 0
    assert reserve(store, "r-1", "SKU-0001", 2).status_code == 201
    assert reserve(store, "r-2", "SKU-0002", 3).status_code == 201
    assert reserved(store) == 5
    client = store.client("inventory")
    assert client.post("/reservations/r-1/commit").status_code == 200
    assert client.post("/reservations/r-2/release").status_code == 200
    assert reserved(store) == 0
    assert oversold(store) == 0  # sold what was there: nothing oversold


def test_a_correct_race_for_a_doorbuster_oversells_nothing(store):
    statuses, held = race_for(store, "DB-0002")
    assert statuses[201] == 5 and len(held) == 5
    assert oversold(store) == 0 and reserved(store) == 5


def test_the_oversell_race_shows_as_oversold_units_held_then_committed(store):
    add_fault(store, spec(1.0))
    try:
        statuses, held = race_for(store, "DB-0001")
    finally:
        reset_faults(store)
    assert statuses[201] > 5  # 5 units, more buyers got a hold
    stock = stock_of(store, "DB-0001")
    assert oversold(store) == stock["reserved"] - stock["on_hand"] == statuses[201] - 5
    for rid in held:  # the goods leave: on_hand goes below zero by as much
        assert store.client("inventory").post(f"/reservations/{rid}/commit").status_code == 200
    assert stock_of(store, "DB-0001")["on_hand"] == 5 - statuses[201]
    assert oversold(store) == statuses[201] - 5
    assert reserved(store) == 0


def test_reading_the_gauges_draws_nothing_from_a_db_slow_fault(store):
    slow = {"type": "db_slow", "target": "inventory", "probability": 1.0, "duration_s": 60}
    add_fault(store, slow | {"params": {"ms": 1}})
    try:
        fired = {"fault": "db_slow"}
        before = store.metric("inventory", FAULT_INJECTIONS.name, fired)
        for _ in range(5):
            oversold(store), reserved(store)  # each reads the stock table
        assert store.metric("inventory", FAULT_INJECTIONS.name, fired) == before
        assert reserve(store, "slowed", "SKU-0003", 1).status_code == 201  # requests are slowed
        assert store.metric("inventory", FAULT_INJECTIONS.name, fired) > before
    finally:
        reset_faults(store)
