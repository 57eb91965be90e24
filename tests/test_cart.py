"""cart: reading, adding, setting, removing and clearing lines; SKUs checked with the catalog."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from shopsim.services.cart import lines


def cart_of(store, customer_id):
    return store.client("cart").get(f"/carts/{customer_id}").get_json()


def add(store, customer_id, sku, quantity):
    body = {"sku": sku, "quantity": quantity}
    return store.client("cart").post(f"/carts/{customer_id}/items", json=body)


def line_count(store):
    with store.ctx("cart").db.read() as conn:
        return conn.execute(select(func.count()).select_from(lines)).scalar_one()


def fill(store, customer_id, n):
    """Put n distinct lines straight into the table (the setup, not the thing under test)."""
    rows = [
        {"customer_id": customer_id, "sku": p.sku, "quantity": 1, "updated_at": time.time()}
        for p in store.data.products[:n]
    ]
    with store.ctx("cart").db.write() as conn:
        conn.execute(lines.insert(), rows)
    return [r["sku"] for r in rows]


def operations(store, operation):
    labels = {"operation": operation}
    return store.metric("cart", "shopsim_cart_operations_total", labels)


def test_cart_of_a_new_customer_is_empty(store):
    response = store.client("cart").get("/carts/7")
    assert response.status_code == 200
    assert response.get_json() == {"customer_id": 7, "items": []}


def test_add_creates_then_grows_the_line(store):
    assert add(store, 1, "SKU-0002", 2).status_code == 200
    response = add(store, 1, "SKU-0002", 3)
    assert response.status_code == 200
    assert response.get_json() == {"customer_id": 1, "items": [{"sku": "SKU-0002", "quantity": 5}]}
    assert cart_of(store, 1) == response.get_json()
    assert operations(store, "add") == 2.0


def test_cart_lists_lines_by_sku_and_keeps_customers_apart(store):
    add(store, 1, "SKU-0003", 1)
    add(store, 1, "DB-0001", 2)
    add(store, 2, "SKU-0001", 4)
    assert [i["sku"] for i in cart_of(store, 1)["items"]] == ["DB-0001", "SKU-0003"]
    assert cart_of(store, 2)["items"] == [{"sku": "SKU-0001", "quantity": 4}]


def test_add_unknown_sku_is_404_naming_sku_and_writes_nothing(store):
    response = add(store, 1, "NOPE-1", 1)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"
    assert line_count(store) == 0
    assert operations(store, "add") == 0.0


def test_add_beyond_99_per_line_is_409_line_full_and_keeps_the_line(store):
    add(store, 1, "SKU-0001", 60)
    response = add(store, 1, "SKU-0001", 40)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["field"], error["in_cart"]) == ("line_full", "quantity", 60)
    assert cart_of(store, 1)["items"] == [{"sku": "SKU-0001", "quantity": 60}]
    assert add(store, 1, "SKU-0001", 39).get_json()["items"][0]["quantity"] == 99


def test_51st_distinct_line_is_409_cart_full(store):
    fill(store, 1, 50)
    response = add(store, 1, "DB-0001", 1)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "cart_full"
    put = store.client("cart").put("/carts/1/items/DB-0001", json={"quantity": 1})
    assert put.status_code == 409
    assert put.get_json()["error"]["code"] == "cart_full"
    assert line_count(store) == 50


def test_full_cart_still_grows_existing_lines(store):
    skus = fill(store, 1, 50)
    response = add(store, 1, skus[0], 2)
    assert response.status_code == 200
    assert response.get_json()["items"][0] == {"sku": skus[0], "quantity": 3}


def test_put_sets_new_and_existing_lines(store):
    client = store.client("cart")
    assert client.put("/carts/1/items/SKU-0001", json={"quantity": 4}).status_code == 200
    add(store, 1, "SKU-0002", 10)
    response = client.put("/carts/1/items/SKU-0002", json={"quantity": 1})
    assert response.status_code == 200
    assert response.get_json()["items"] == [
        {"sku": "SKU-0001", "quantity": 4},
        {"sku": "SKU-0002", "quantity": 1},
    ]
    assert operations(store, "set") == 2.0


def test_put_unknown_sku_is_404_naming_sku(store):
    response = store.client("cart").put("/carts/1/items/NOPE-1", json={"quantity": 1})
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"
    assert line_count(store) == 0


def test_delete_removes_one_line(store):
    add(store, 1, "SKU-0001", 1)
    add(store, 1, "SKU-0002", 1)
    response = store.client("cart").delete("/carts/1/items/SKU-0001")
    assert response.status_code == 200
    assert response.get_json()["items"] == [{"sku": "SKU-0002", "quantity": 1}]
    assert operations(store, "remove") == 1.0


def test_delete_of_a_line_not_in_the_cart_is_404(store):
    add(store, 1, "SKU-0001", 1)
    response = store.client("cart").delete("/carts/1/items/SKU-0002")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"
    assert line_count(store) == 1
    assert operations(store, "remove") == 0.0


def test_clear_empties_the_cart_and_is_idempotent(store):
    add(store, 1, "SKU-0001", 1)
    add(store, 2, "SKU-0001", 1)
    client = store.client("cart")
    for _ in range(2):
        response = client.delete("/carts/1")
        assert response.status_code == 200
        assert response.get_json() == {"customer_id": 1, "items": []}
    assert cart_of(store, 2)["items"] == [{"sku": "SKU-0001", "quantity": 1}]
    assert operations(store, "clear") == 2.0


def test_catalog_down_is_503_and_writes_nothing(store):
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="boom")

    with store.transport("cart", "catalog", httpx.MockTransport(broken)):
        response = add(store, 1, "SKU-0001", 1)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert (error["code"], error["dependency"]) == ("dependency_failed", "catalog")
    assert line_count(store) == 0


def race_adds(store, skus):
    """POST one unit of each SKU to customer 1's cart, all at once; returns the statuses."""
    app = store.apps["cart"]
    barrier = threading.Barrier(len(skus))
    statuses = []

    def worker(sku):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/carts/1/items", json={"sku": sku, "quantity": 1}))

    threads = [threading.Thread(target=worker, args=(sku,)) for sku in skus]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(r.status_code for r in statuses)


def test_concurrent_first_adds_of_one_line_all_count(any_store):
    assert race_adds(any_store, ["SKU-0001"] * 10) == [200] * 10
    assert cart_of(any_store, 1)["items"] == [{"sku": "SKU-0001", "quantity": 10}]


def test_concurrent_new_lines_never_overfill_the_cart(any_store):
    fill(any_store, 1, 49)
    assert race_adds(any_store, [f"DB-000{i}" for i in range(1, 6)]) == [200] + [409] * 4
    assert line_count(any_store) == 50


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ('["SKU-0001"]', 400, "body"),
        ("", 400, "body"),
        ({"quantity": 1}, 422, "sku"),
        ({"sku": "SKU-0001"}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": 0}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": -3}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": 100}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": 10**30}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": "2"}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": 1.5}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": True}, 422, "quantity"),
        ({"sku": "SKU-0001", "quantity": None}, 422, "quantity"),
        ({"sku": 1, "quantity": 1}, 422, "sku"),
        ({"sku": "sku-0001", "quantity": 1}, 422, "sku"),
        ({"sku": "SKU-0001?x=1", "quantity": 1}, 422, "sku"),
        ({"sku": "S" * 33, "quantity": 1}, 422, "sku"),
        ({"sku": "SKU-0001", "quantity": 1, "note": "x"}, 422, "note"),
    ],
)
def test_add_bad_input_writes_nothing(store, body, status, field):
    client = store.client("cart")
    if isinstance(body, str):
        response = client.post("/carts/1/items", data=body, content_type="application/json")
    else:
        response = client.post("/carts/1/items", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert line_count(store) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("", 400, "body"),
        ({}, 422, "quantity"),
        ({"quantity": 0}, 422, "quantity"),
        ({"quantity": 100}, 422, "quantity"),
        ({"quantity": "1"}, 422, "quantity"),
        ({"quantity": 1, "sku": "SKU-0001"}, 422, "sku"),
    ],
)
def test_put_bad_input_leaves_the_line(store, body, status, field):
    add(store, 1, "SKU-0001", 5)
    client = store.client("cart")
    if isinstance(body, str):
        response = client.put("/carts/1/items/SKU-0001", data=body, content_type="application/json")
    else:
        response = client.put("/carts/1/items/SKU-0001", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert cart_of(store, 1)["items"] == [{"sku": "SKU-0001", "quantity": 5}]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("get", "/carts/0", "customer_id"),
        ("get", f"/carts/{2**31}", "customer_id"),
        ("get", f"/carts/{10**30}", "customer_id"),
        ("delete", "/carts/0", "customer_id"),
        ("post", "/carts/0/items", "customer_id"),
        ("put", "/carts/0/items/SKU-0001", "customer_id"),
        ("put", "/carts/1/items/sku-0001", "sku"),
        ("delete", "/carts/1/items/bad%20sku", "sku"),
    ],
)
def test_bad_path_is_422_naming_the_part(store, method, path, field):
    response = getattr(store.client("cart"), method)(path, json={"sku": "SKU-0001", "quantity": 1})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field
    assert line_count(store) == 0


@pytest.mark.parametrize("path", ["/carts/abc", "/carts/-1", "/carts/1.5"])
def test_non_numeric_customer_is_404(store, path):
    assert store.client("cart").get(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/carts/1/items"),
        ("post", "/carts/1"),
        ("put", "/carts/1"),
        ("get", "/carts/1/items/SKU-0001"),
        ("post", "/carts/1/items/SKU-0001"),
    ],
)
def test_wrong_method_is_405(store, method, path):
    response = getattr(store.client("cart"), method)(path)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_oversized_body_is_413(store):
    big = '{"sku": "' + "A" * (store.settings.max_body_bytes + 10) + '", "quantity": 1}'
    response = store.client("cart").post(
        "/carts/1/items", data=big, content_type="application/json"
    )
    assert response.status_code == 413
    assert line_count(store) == 0


def test_operation_series_exist_at_zero(store):
    registry = store.ctx("cart").metrics.registry
    for operation in ("add", "set", "remove", "clear", "purchase"):
        labels = {"operation": operation}
        assert registry.get_sample_value("shopsim_cart_operations_total", labels) == 0.0


def purchase(store, customer_id, order_id, items):
    body = {"order_id": order_id, "items": [{"sku": s, "quantity": q} for s, q in items]}
    return store.client("cart").post(f"/carts/{customer_id}/purchases", json=body)


def test_purchase_takes_out_only_what_was_bought(store):
    add(store, 1, "SKU-0001", 3)
    add(store, 1, "SKU-0002", 1)
    response = purchase(store, 1, "ord_a", [("SKU-0001", 2), ("SKU-0002", 1)])
    assert response.status_code == 200
    assert cart_of(store, 1)["items"] == [{"sku": "SKU-0001", "quantity": 1}]
    assert operations(store, "purchase") == 1.0


def test_purchase_applies_once_per_order_so_a_late_retry_keeps_new_items(store):
    add(store, 1, "SKU-0001", 1)
    assert purchase(store, 1, "ord_b", [("SKU-0001", 1)]).status_code == 200
    add(store, 1, "SKU-0001", 1)  # bought again after paying
    add(store, 1, "SKU-0003", 2)
    late = purchase(store, 1, "ord_b", [("SKU-0001", 1)])  # the first call's retry arrives
    assert late.status_code == 200
    assert cart_of(store, 1)["items"] == [
        {"sku": "SKU-0001", "quantity": 1},
        {"sku": "SKU-0003", "quantity": 2},
    ]


def test_purchase_of_lines_no_longer_in_the_cart_is_fine(store):
    response = purchase(store, 2, "ord_c", [("SKU-0009", 4)])
    assert response.status_code == 200
    assert cart_of(store, 2)["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{bad", 400, "body"),
        ('{"items": [{"sku": "SKU-0001", "quantity": 1}]}', 422, "order_id"),
        ('{"order_id": "", "items": [{"sku": "SKU-0001", "quantity": 1}]}', 422, "order_id"),
        ('{"order_id": "o", "items": []}', 422, "items"),
        (
            '{"order_id": "o", "items": [{"sku": "SKU-0001", "quantity": 0}]}',
            422,
            "items[0].quantity",
        ),
        ('{"order_id": "o", "items": [{"sku": "bad sku", "quantity": 1}]}', 422, "items[0].sku"),
        ('{"order_id": 5, "items": [{"sku": "SKU-0001", "quantity": 1}]}', 422, "order_id"),
    ],
)
def test_purchase_bad_input_changes_nothing(store, body, status, field):
    add(store, 1, "SKU-0001", 2)
    response = store.client("cart").post(
        "/carts/1/purchases", data=body, content_type="application/json"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert cart_of(store, 1)["items"] == [{"sku": "SKU-0001", "quantity": 2}]
