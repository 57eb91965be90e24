"""inventory: stock reads, all-or-nothing reservations, commit/release/expiry, no oversell."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from shopsim.services.inventory import expire_reservations, reservations, stock
from shopsim.services.inventory import state as inventory_state


def reserve(store, rid, items, **extra):
    body = {"reservation_id": rid, "items": items, **extra}
    return store.client("inventory").post("/reservations", json=body)


def stock_of(store, sku):
    return store.client("inventory").get(f"/stock/{sku}").get_json()


def total_reserved(store):
    with store.ctx("inventory").db.read() as conn:
        return conn.execute(select(func.sum(stock.c.reserved))).scalar_one()


def reservation_count(store):
    with store.ctx("inventory").db.read() as conn:
        return conn.execute(select(func.count()).select_from(reservations)).scalar_one()


def outcome(store, name):
    return store.metric("inventory", "shopsim_inventory_reservations_total", {"outcome": name})


def freeze_clock(store, now):
    inventory_state.of(store.ctx("inventory")).clock = lambda: now


def test_seed_loads_one_stock_row_per_sku(store):
    with store.ctx("inventory").db.read() as conn:
        rows = conn.execute(select(stock)).all()
    assert {(r.sku, r.on_hand) for r in rows} == set(store.data.stock)
    assert all(r.reserved == 0 for r in rows)
    assert stock_of(store, "DB-0001")["on_hand"] == 5


def test_stock_found_by_sku(store):
    sku, on_hand = store.data.stock[0]
    assert stock_of(store, sku) == {
        "sku": sku,
        "on_hand": on_hand,
        "reserved": 0,
        "available": on_hand,
    }


def test_unknown_stock_is_404_naming_sku(store):
    response = store.client("inventory").get("/stock/NOPE-1")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"


def test_reservation_holds_every_item(store):
    freeze_clock(store, 1000.0)
    items = [{"sku": "SKU-0001", "quantity": 2}, {"sku": "DB-0001", "quantity": 5}]
    response = reserve(store, "r1", items, ttl_s=30)
    assert response.status_code == 201
    assert response.get_json() == {
        "reservation_id": "r1",
        "status": "held",
        "items": items,
        "expires_at": 1030.0,
    }
    assert stock_of(store, "SKU-0001")["reserved"] == 2
    assert stock_of(store, "DB-0001") == {
        "sku": "DB-0001",
        "on_hand": 5,
        "reserved": 5,
        "available": 0,
    }
    assert store.client("inventory").get("/reservations/r1").get_json() == response.get_json()
    assert outcome(store, "held") == 1.0


def test_reservation_ttl_defaults_to_settings(store):
    freeze_clock(store, 1000.0)
    body = reserve(store, "r1", [{"sku": "SKU-0001", "quantity": 1}]).get_json()
    assert body["expires_at"] == 1000.0 + store.settings.reservation_ttl_s


def test_reservation_replay_with_same_items_is_200_and_holds_once(store):
    items = [{"sku": "SKU-0001", "quantity": 1}, {"sku": "SKU-0002", "quantity": 3}]
    first = reserve(store, "r1", items)
    again = reserve(store, "r1", list(reversed(items)))
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert total_reserved(store) == 4
    assert outcome(store, "held") == 1.0


def test_reservation_replay_after_commit_returns_its_status(store):
    items = [{"sku": "SKU-0001", "quantity": 1}]
    reserve(store, "r1", items)
    store.client("inventory").post("/reservations/r1/commit")
    again = reserve(store, "r1", items)
    assert again.status_code == 200
    assert again.get_json()["status"] == "committed"
    assert total_reserved(store) == 0


def test_reservation_replay_with_other_items_is_409(store):
    reserve(store, "r1", [{"sku": "SKU-0001", "quantity": 1}])
    response = reserve(store, "r1", [{"sku": "SKU-0001", "quantity": 2}])
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("idempotency_key_reused", "reservation_id")
    assert total_reserved(store) == 1


def test_reservation_unknown_sku_is_404_and_holds_nothing(store):
    items = [{"sku": "SKU-0001", "quantity": 1}, {"sku": "NOPE-1", "quantity": 1}]
    response = reserve(store, "r1", items)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "items[1].sku"
    assert total_reserved(store) == 0
    assert reservation_count(store) == 0


def test_reservation_short_item_is_409_and_holds_nothing(store):
    items = [{"sku": "SKU-0001", "quantity": 1}, {"sku": "DB-0002", "quantity": 6}]
    response = reserve(store, "r1", items)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["field"] == "items[1].quantity"
    assert (error["sku"], error["available"]) == ("DB-0002", 5)
    assert total_reserved(store) == 0
    assert reservation_count(store) == 0
    assert outcome(store, "insufficient") == 1.0


def test_held_stock_is_not_available_to_others(store):
    assert reserve(store, "r1", [{"sku": "DB-0003", "quantity": 4}]).status_code == 201
    response = reserve(store, "r2", [{"sku": "DB-0003", "quantity": 2}])
    assert response.status_code == 409
    assert response.get_json()["error"]["available"] == 1


LINE = {"sku": "SKU-0001", "quantity": 1}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[1]", 400, "body"),
        ("", 400, "body"),
        ({"items": [LINE]}, 422, "reservation_id"),
        ({"reservation_id": "", "items": [LINE]}, 422, "reservation_id"),
        ({"reservation_id": "x" * 65, "items": [LINE]}, 422, "reservation_id"),
        ({"reservation_id": 7, "items": [LINE]}, 422, "reservation_id"),
        ({"reservation_id": "r1"}, 422, "items"),
        ({"reservation_id": "r1", "items": []}, 422, "items"),
        ({"reservation_id": "r1", "items": LINE}, 422, "items"),
        (
            {
                "reservation_id": "r1",
                "items": [{"sku": f"SKU-{i:04d}", "quantity": 1} for i in range(1, 52)],
            },
            422,
            "items",
        ),
        ({"reservation_id": "r1", "items": [{"sku": "SKU-0001"}]}, 422, "items[0].quantity"),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": 0}]},
            422,
            "items[0].quantity",
        ),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": -1}]},
            422,
            "items[0].quantity",
        ),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": 100}]},
            422,
            "items[0].quantity",
        ),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": 10**30}]},
            422,
            "items[0].quantity",
        ),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": "1"}]},
            422,
            "items[0].quantity",
        ),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": 1.5}]},
            422,
            "items[0].quantity",
        ),
        (
            {"reservation_id": "r1", "items": [{"sku": "SKU-0001", "quantity": True}]},
            422,
            "items[0].quantity",
        ),
        ({"reservation_id": "r1", "items": [{"sku": "sku-1", "quantity": 1}]}, 422, "items[0].sku"),
        ({"reservation_id": "r1", "items": [{"sku": 1, "quantity": 1}]}, 422, "items[0].sku"),
        ({"reservation_id": "r1", "items": [{**LINE, "price": 1}]}, 422, "items[0].price"),
        (
            {"reservation_id": "r1", "items": [LINE, {"sku": "SKU-0002", "quantity": 1}, LINE]},
            422,
            "items[2].sku",
        ),
        ({"reservation_id": "r1", "items": [LINE], "ttl_s": 0}, 422, "ttl_s"),
        ({"reservation_id": "r1", "items": [LINE], "ttl_s": 3601}, 422, "ttl_s"),
        ({"reservation_id": "r1", "items": [LINE], "ttl_s": "60"}, 422, "ttl_s"),
        ({"reservation_id": "r1", "items": [LINE], "ttl_s": True}, 422, "ttl_s"),
        ({"reservation_id": "r1", "items": [LINE], "extra": 1}, 422, "extra"),
    ],
)
def test_reservation_bad_input_writes_nothing(store, body, status, field):
    client = store.client("inventory")
    if isinstance(body, str):
        response = client.post("/reservations", data=body, content_type="application/json")
    else:
        response = client.post("/reservations", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert total_reserved(store) == 0
    assert reservation_count(store) == 0


def test_reservation_ttl_accepts_fractions(store):
    freeze_clock(store, 1000.0)
    response = reserve(store, "r1", [LINE], ttl_s=1.5)
    assert response.status_code == 201
    assert response.get_json()["expires_at"] == 1001.5


def test_commit_takes_goods_off_the_shelf_once(store):
    reserve(store, "r1", [{"sku": "DB-0001", "quantity": 2}])
    client = store.client("inventory")
    first = client.post("/reservations/r1/commit")
    again = client.post("/reservations/r1/commit")
    assert first.status_code == again.status_code == 200
    assert first.get_json()["status"] == again.get_json()["status"] == "committed"
    assert stock_of(store, "DB-0001") == {
        "sku": "DB-0001",
        "on_hand": 3,
        "reserved": 0,
        "available": 3,
    }
    assert outcome(store, "committed") == 1.0


def test_release_returns_the_hold_once(store):
    reserve(store, "r1", [{"sku": "DB-0001", "quantity": 2}])
    client = store.client("inventory")
    first = client.post("/reservations/r1/release")
    again = client.post("/reservations/r1/release")
    assert first.status_code == again.status_code == 200
    assert again.get_json()["status"] == "released"
    assert stock_of(store, "DB-0001")["available"] == 5
    assert stock_of(store, "DB-0001")["on_hand"] == 5
    assert outcome(store, "released") == 1.0


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        ("release", "commit", "reservation_released"),
        ("commit", "release", "reservation_committed"),
    ],
)
def test_ended_reservation_refuses_the_other_ending(store, first, then, code):
    reserve(store, "r1", [{"sku": "DB-0001", "quantity": 2}])
    client = store.client("inventory")
    client.post(f"/reservations/r1/{first}")
    before = stock_of(store, "DB-0001")
    response = client.post(f"/reservations/r1/{then}")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["field"] == "reservation_id"
    assert stock_of(store, "DB-0001") == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/reservations/nope"),
        ("post", "/reservations/nope/commit"),
        ("post", "/reservations/nope/release"),
    ],
)
def test_unknown_reservation_is_404(store, method, path):
    response = getattr(store.client("inventory"), method)(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "reservation_id"


def test_expiry_returns_stock_of_overdue_holds_only(store):
    reserve(store, "short", [{"sku": "DB-0001", "quantity": 2}], ttl_s=1)
    reserve(store, "long", [{"sku": "DB-0001", "quantity": 1}], ttl_s=600)
    ctx = store.ctx("inventory")
    assert expire_reservations(ctx) == 0
    assert expire_reservations(ctx, now=time.time() + 5) == 1
    assert expire_reservations(ctx, now=time.time() + 5) == 0
    client = store.client("inventory")
    assert client.get("/reservations/short").get_json()["status"] == "expired"
    assert client.get("/reservations/long").get_json()["status"] == "held"
    assert stock_of(store, "DB-0001")["reserved"] == 1
    assert outcome(store, "expired") == 1.0


def test_expired_reservation_refuses_commit_and_replays_release(store):
    reserve(store, "r1", [{"sku": "DB-0001", "quantity": 2}], ttl_s=1)
    expire_reservations(store.ctx("inventory"), now=time.time() + 5)
    client = store.client("inventory")
    commit = client.post("/reservations/r1/commit")
    assert commit.status_code == 409
    assert commit.get_json()["error"]["code"] == "reservation_expired"
    release = client.post("/reservations/r1/release")
    assert release.status_code == 200
    assert release.get_json()["status"] == "expired"
    assert stock_of(store, "DB-0001") == {
        "sku": "DB-0001",
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
    }


def test_commit_past_deadline_expires_even_before_the_sweep(store):
    freeze_clock(store, 1000.0)
    reserve(store, "r1", [{"sku": "DB-0001", "quantity": 2}], ttl_s=10)
    freeze_clock(store, 1011.0)
    response = store.client("inventory").post("/reservations/r1/commit")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "reservation_expired"
    assert store.client("inventory").get("/reservations/r1").get_json()["status"] == "expired"
    assert stock_of(store, "DB-0001")["on_hand"] == 5
    assert stock_of(store, "DB-0001")["reserved"] == 0
    assert outcome(store, "expired") == 1.0
    assert outcome(store, "committed") == 0.0


def race(store, n, request):
    """Run `request(client, i)` from n threads at once; returns the responses."""
    barrier = threading.Barrier(n)
    app = store.apps["inventory"]
    results = [None] * n

    def worker(i):
        client = app.test_client()
        barrier.wait()
        results[i] = request(client, i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def assert_doorbuster_never_oversold(store):
    def buy(client, i):
        body = {"reservation_id": f"race-{i}", "items": [{"sku": "DB-0001", "quantity": 1}]}
        return client.post("/reservations", json=body)

    responses = race(store, 30, buy)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 5, 409: 25}
    refused = [r.get_json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(refused) == {"insufficient_stock"}
    assert stock_of(store, "DB-0001") == {
        "sku": "DB-0001",
        "on_hand": 5,
        "reserved": 5,
        "available": 0,
    }
    assert reservation_count(store) == 5
    assert outcome(store, "held") == 5.0
    assert outcome(store, "insufficient") == 25.0


def test_doorbuster_never_oversold_under_concurrency(any_store):
    assert_doorbuster_never_oversold(any_store)


def test_concurrent_replays_hold_once(any_store):
    body = {"reservation_id": "r1", "items": [{"sku": "DB-0001", "quantity": 2}]}
    responses = race(any_store, 10, lambda client, i: client.post("/reservations", json=body))
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert stock_of(any_store, "DB-0001")["reserved"] == 2
    assert reservation_count(any_store) == 1


def test_concurrent_commit_and_release_end_a_hold_once(any_store):
    store = any_store
    reserve(store, "r1", [{"sku": "DB-0001", "quantity": 2}])
    actions = ["commit", "release"] * 5
    responses = race(store, 10, lambda c, i: c.post(f"/reservations/r1/{actions[i]}"))
    final = store.client("inventory").get("/reservations/r1").get_json()["status"]
    winner = {"committed": "commit", "released": "release"}[final]
    for action, response in zip(actions, responses, strict=True):
        assert response.status_code == (200 if action == winner else 409)
    expected_on_hand = 3 if final == "committed" else 5
    assert stock_of(store, "DB-0001")["on_hand"] == expected_on_hand
    assert stock_of(store, "DB-0001")["reserved"] == 0


def test_outcome_series_exist_at_zero(store):
    registry = store.ctx("inventory").metrics.registry
    for name in ("held", "insufficient", "committed", "released", "expired"):
        labels = {"outcome": name}
        assert registry.get_sample_value("shopsim_inventory_reservations_total", labels) == 0.0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/stock/SKU-0001"),
        ("get", "/reservations"),
        ("get", "/reservations/r1/commit"),
        ("put", "/reservations/r1"),
    ],
)
def test_wrong_method_is_405(store, method, path):
    response = getattr(store.client("inventory"), method)(path)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_oversized_body_is_413(store):
    rid = "x" * (store.settings.max_body_bytes + 10)
    response = reserve(store, rid, [LINE])
    assert response.status_code == 413
    assert reservation_count(store) == 0
