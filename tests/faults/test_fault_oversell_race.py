"""oversell_race: reservations check stock, then hold it without a lock; doorbusters oversell."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from shopsim.services.inventory import reservations
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire

INJECTED = {"fault": "oversell_race"}
RACERS = 30


def spec(probability: float, window_ms: float = 1000.0, **changes: object) -> dict[str, object]:
    base = {
        "type": "oversell_race",
        "target": "inventory",
        "probability": probability,
        "duration_s": 60,
        "params": {"window_ms": window_ms},
    }
    return base | changes


def injections(store) -> float:
    return store.metric("inventory", "shopsim_fault_injections_total", INJECTED)


def stock_of(store, sku: str) -> dict[str, int]:
    return store.client("inventory").get(f"/stock/{sku}").get_json()


def holds_of(store, sku: str) -> int:
    with store.ctx("inventory").db.read() as conn:
        stmt = select(func.count()).select_from(reservations)
        return conn.execute(stmt.where(reservations.c.id.like(f"race-{sku}-%"))).scalar_one()


def race_for(store, sku: str, n: int = RACERS) -> tuple[Counter[int], list[str]]:
    """n buyers at once, one unit each: (statuses, the reservation ids that were held)."""
    barrier = threading.Barrier(n)
    app = store.apps["inventory"]
    statuses: list[int] = [0] * n

    def buy(i: int) -> None:
        client = app.test_client()
        body = {"reservation_id": f"race-{sku}-{i}", "items": [{"sku": sku, "quantity": 1}]}
        barrier.wait()
        statuses[i] = client.post("/reservations", json=body).status_code

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    held = [f"race-{sku}-{i}" for i, status in enumerate(statuses) if status == 201]
    return Counter(statuses), held


def assert_never_oversold(store, sku: str) -> None:
    on_hand = stock_of(store, sku)["on_hand"]
    statuses, _ = race_for(store, sku)
    assert statuses == {201: on_hand, 409: RACERS - on_hand}
    assert stock_of(store, sku)["reserved"] == on_hand
    assert holds_of(store, sku) == on_hand


def test_oversell_race_at_p1_oversells_the_doorbuster(any_store):
    store = any_store
    add_fault(store, spec(1.0))
    statuses, held = race_for(store, "DB-0001")
    assert statuses[201] > 5  # 5 units, more buyers got a hold
    assert statuses[201] + statuses[409] == RACERS  # and not one error: it looks fine
    after = stock_of(store, "DB-0001")
    assert after["on_hand"] == 5
    assert after["reserved"] == statuses[201] > after["on_hand"]
    assert after["available"] < 0
    assert holds_of(store, "DB-0001") == statuses[201]
    assert injections(store) == RACERS
    client = store.client("inventory")
    for rid in held:  # every oversold hold goes through to a sale
        assert client.post(f"/reservations/{rid}/commit").status_code == 200
    assert stock_of(store, "DB-0001")["on_hand"] == 5 - len(held) < 0


def test_oversell_race_at_p0_holds_exactly_the_stock(any_store):
    add_fault(any_store, spec(0.0))
    assert_never_oversold(any_store, "DB-0001")
    assert injections(any_store) == 0


def test_oversell_race_at_p1_fires_on_every_reservation(chaos):
    add_fault(chaos, spec(1.0, window_ms=0))
    client = chaos.client("inventory")
    for i in range(50):
        body = {"reservation_id": f"seq-{i}", "items": [{"sku": "SKU-0088", "quantity": 1}]}
        assert client.post("/reservations", json=body).status_code == 201
    assert injections(chaos) == 50
    # Uncontended, the unlocked path still counts right: the damage needs a race.
    assert stock_of(chaos, "SKU-0088")["reserved"] == 50
    again = {"reservation_id": "seq-0", "items": [{"sku": "SKU-0088", "quantity": 1}]}
    assert client.post("/reservations", json=again).status_code == 200  # replays stay replays
    assert stock_of(chaos, "SKU-0088")["reserved"] == 50


def test_oversell_race_fires_at_its_probability(chaos):
    n = 200
    add_fault(chaos, spec(0.3, window_ms=0))
    client = chaos.client("inventory")
    for i in range(n):
        body = {"reservation_id": f"p-{i}", "items": [{"sku": "SKU-0088", "quantity": 1}]}
        assert client.post("/reservations", json=body).status_code == 201
    low, high = binomial_bounds(n, 0.3)
    assert low <= injections(chaos) <= high
    assert stock_of(chaos, "SKU-0088")["reserved"] == n


def test_oversell_race_validates_its_window(chaos):
    for window in (-1, 1001, "20"):
        response = chaos.client("inventory").post(
            "/_chaos/faults", json=spec(1.0, window_ms=window), environ_base=LOOPBACK
        )
        assert response.status_code == 400
        assert response.get_json()["error"]["field"] == "params.window_ms"


@pytest.mark.parametrize("how", ["removed", "expired"])
def test_oversell_race_ends_and_reservations_lock_again(chaos, how):
    fault = add_fault(chaos, spec(1.0, duration_s=60))
    statuses, _ = race_for(chaos, "DB-0002")
    assert statuses[201] > 5
    if how == "removed":
        response = chaos.client("inventory").delete(
            f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
        )
        assert response.status_code == 200
    else:
        expire(chaos, fault["name"])
    assert_never_oversold(chaos, "DB-0003")
    labels = {"fault": "oversell_race", "target": "inventory"}
    assert chaos.metric("inventory", "shopsim_fault_active", labels) == 0.0
