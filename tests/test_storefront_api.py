"""storefront JSON API: browsing, customers, the cart, checkout, orders, registries, gifts,
dependency failures and bad input for every endpoint (with nothing written when refused)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from shopsim.services.notifications.sender import send_pending
from tests.conftest import everything, refusing

CARD = "tok_visa"


def add(store: Any, sku: str = "SKU-0001", quantity: int = 2, customer: int = 1) -> Any:
    body = {"sku": sku, "quantity": quantity}
    return store.client("storefront").post(f"/api/customers/{customer}/cart/items", json=body)


def checkout(store: Any, key: str = "key-1", card: str = CARD, customer: int = 1) -> Any:
    body = {"idempotency_key": key, "card_token": card}
    return store.client("storefront").post(f"/api/customers/{customer}/checkout", json=body)


def product(store: Any, sku: str) -> Any:
    return next(p for p in store.data.products if p.sku == sku)


def charges(store: Any, order_id: str) -> list[dict[str, Any]]:
    body = store.client("payment").get(f"/charges?reference={order_id}").get_json()
    return body["charges"]  # type: ignore[no-any-return]


# --- browsing ------------------------------------------------------------------------------------


def test_products_search_passes_the_query_to_the_catalog(store):
    body = store.client("storefront").get("/api/products?q=kettle&limit=3").get_json()
    assert 0 < len(body["products"]) <= 3
    for p in body["products"]:
        assert "kettle" in (p["name"] + p["description"]).lower()


def test_products_filter_by_category_and_page(store):
    client = store.client("storefront")
    first = client.get("/api/products?category=toys&limit=2").get_json()
    second = client.get("/api/products?category=toys&limit=2&offset=2").get_json()
    assert {p["category"] for p in first["products"] + second["products"]} == {"toys"}
    assert first["more"] is True
    assert first["products"][0]["sku"] != second["products"][0]["sku"]


def test_product_found_by_sku(store):
    body = store.client("storefront").get("/api/products/SKU-0003").get_json()
    assert body["name"] == product(store, "SKU-0003").name
    assert body["price_cents"] == product(store, "SKU-0003").price_cents


@pytest.mark.parametrize("sku", ["SKU-9999", "lower-case", "A" * 40])
def test_unknown_product_is_404_naming_sku(store, sku):
    response = store.client("storefront").get(f"/api/products/{sku}")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"


def test_malformed_sku_is_refused_without_asking_the_catalog(store):
    labels = {"service": "storefront", "dependency": "catalog", "outcome": "client_error"}
    response = store.client("storefront").get("/api/products/bad%3Fsku")
    assert response.status_code == 404
    assert store.metric("storefront", "shopsim_dependency_requests_total", labels) == 0.0


# --- customers -----------------------------------------------------------------------------------


def test_customer_found(store):
    body = store.client("storefront").get("/api/customers/7").get_json()
    expected = store.data.customers[6]
    assert body == {
        "id": 7,
        "first_name": expected.first_name,
        "last_name": expected.last_name,
        "email": expected.email,
    }


@pytest.mark.parametrize("customer_id", ["0", "201", "99999999999999999999999"])
def test_unknown_customer_is_404(store, customer_id):
    response = store.client("storefront").get(f"/api/customers/{customer_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "customer_id"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/customers/999/cart"),
        ("POST", "/api/customers/999/cart/items"),
        ("PUT", "/api/customers/999/cart/items/SKU-0001"),
        ("DELETE", "/api/customers/999/cart/items/SKU-0001"),
        ("POST", "/api/customers/999/checkout"),
    ],
)
def test_every_customer_route_checks_the_customer_first(store, method, path):
    before = everything(store)
    # A valid body: the customer check comes before anything else.
    body = {"sku": "SKU-0001", "quantity": 1} if path.endswith("items") else {"quantity": 1}
    if path.endswith("checkout"):
        body = {"idempotency_key": "k", "card_token": CARD}
    response = store.client("storefront").open(path, method=method, json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "customer_id"
    assert everything(store) == before


# --- cart ----------------------------------------------------------------------------------------


def test_cart_starts_empty(store):
    body = store.client("storefront").get("/api/customers/3/cart").get_json()
    assert body == {"customer_id": 3, "items": [], "subtotal_cents": 0}


def test_add_to_cart_prices_the_lines(store):
    add(store, "SKU-0001", 2)
    response = add(store, "SKU-0002", 1)
    assert response.status_code == 200
    cart = store.client("storefront").get("/api/customers/1/cart").get_json()
    p1, p2 = product(store, "SKU-0001"), product(store, "SKU-0002")
    lines = {line["sku"]: line for line in cart["items"]}
    assert lines["SKU-0001"] == {
        "sku": "SKU-0001",
        "name": p1.name,
        "quantity": 2,
        "price_cents": p1.price_cents,
        "line_cents": 2 * p1.price_cents,
    }
    assert cart["subtotal_cents"] == 2 * p1.price_cents + p2.price_cents
    assert response.get_json() == cart


def test_add_twice_adds_to_the_line(store):
    add(store, "SKU-0001", 2)
    cart = add(store, "SKU-0001", 3).get_json()
    assert [(line["sku"], line["quantity"]) for line in cart["items"]] == [("SKU-0001", 5)]


def test_set_quantity_and_remove_a_line(store):
    add(store, "SKU-0001", 2)
    add(store, "SKU-0002", 1)
    client = store.client("storefront")
    cart = client.put("/api/customers/1/cart/items/SKU-0001", json={"quantity": 7}).get_json()
    assert {line["sku"]: line["quantity"] for line in cart["items"]} == {
        "SKU-0001": 7,
        "SKU-0002": 1,
    }
    cart = client.delete("/api/customers/1/cart/items/SKU-0002").get_json()
    assert [line["sku"] for line in cart["items"]] == ["SKU-0001"]
    assert cart["subtotal_cents"] == 7 * product(store, "SKU-0001").price_cents


def test_line_above_99_is_409_line_full_and_not_written(store):
    """A valid body the cart's contents refuse: a conflict (409), not a malformed request."""
    add(store, "SKU-0001", 90)
    before = everything(store)
    response = add(store, "SKU-0001", 10)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "line_full"
    assert response.get_json()["error"]["field"] == "quantity"
    assert everything(store) == before


def test_removing_a_sku_not_in_the_cart_is_404(store):
    add(store, "SKU-0001", 1)
    before = everything(store)
    response = store.client("storefront").delete("/api/customers/1/cart/items/SKU-0005")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"
    assert everything(store) == before


# --- checkout and orders -------------------------------------------------------------------------


def test_checkout_places_the_order(store):
    add(store, "SKU-0001", 2)
    add(store, "SKU-0002", 1)
    subtotal = store.client("storefront").get("/api/customers/1/cart").get_json()["subtotal_cents"]
    response = checkout(store)
    assert response.status_code == 201
    order = response.get_json()
    assert order["order_id"].startswith("ord_")
    assert order["status"] == "confirmed"
    assert order["total_cents"] == subtotal
    assert {(i["sku"], i["quantity"]) for i in order["items"]} == {("SKU-0001", 2), ("SKU-0002", 1)}
    assert len(charges(store, order["order_id"])) == 1


def test_checkout_sends_the_customers_email_and_name(store):
    add(store, "SKU-0001", 1)
    assert checkout(store, customer=1).status_code == 201
    send_pending(store.ctx("notifications"))
    mail = store.client("notifications").get("/mail?customer_id=1").get_json()["mail"]
    customer = store.data.customers[0]
    assert [m["recipient_email"] for m in mail] == [customer.email]
    assert mail[0]["greeting"] == f"Hi {customer.first_name},"


def test_checkout_retry_with_the_same_key_orders_once(store):
    add(store, "SKU-0001", 1)
    first = checkout(store, key="same").get_json()
    second = checkout(store, key="same")
    assert second.status_code == 201
    assert second.get_json()["order_id"] == first["order_id"]
    assert len(charges(store, first["order_id"])) == 1


def test_order_is_readable_by_id(store):
    add(store, "SKU-0001", 1)
    order = checkout(store).get_json()
    response = store.client("storefront").get(f"/api/orders/{order['order_id']}")
    assert response.status_code == 200
    assert response.get_json()["order_id"] == order["order_id"]
    assert response.get_json()["status"] == "confirmed"


@pytest.mark.parametrize(
    "order_id",
    [
        "ord_00000000000000000000",
        "bad%20id",
        "x" * 80,
        "ord_x%0A",
        "ord_x%0D%0A",
        "%0A",
        "ord_x%00",
    ],
)
def test_unknown_order_is_404(store, order_id):
    response = store.client("storefront").get(f"/api/orders/{order_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "order_id"


def test_declined_card_passes_through_as_402(store):
    add(store, "SKU-0001", 1)
    response = checkout(store, card="tok_decline")
    assert response.status_code == 402
    assert response.get_json()["error"]["code"] == "card_declined"


def test_empty_cart_checkout_is_409(store):
    response = checkout(store, customer=5)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "cart_empty"


def test_out_of_stock_is_409_naming_the_line(store):
    add(store, "DB-0001", 6)  # doorbusters have 5 in stock
    response = checkout(store)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["sku"] == "DB-0001"


def test_checkout_unreachable_is_503_with_an_incident_and_nothing_written(store):
    add(store, "SKU-0001", 1)
    before = everything(store)
    with store.transport("storefront", "checkout", refusing()):
        response = checkout(store)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "dependency_failed"
    assert error["dependency"] == "checkout"
    assert error["incident"].startswith("INC-")
    assert everything(store) == before


def test_catalog_unreachable_is_503_for_browsing(store):
    with store.transport("storefront", "catalog", refusing()):
        response = store.client("storefront").get("/api/products")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "dependency_failed"


@pytest.mark.parametrize("body", [b"[]", b"", b"not json", b"null"])
def test_catalog_answering_200_without_a_json_object_is_503(store, body):
    def odd(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    with store.transport("storefront", "catalog", httpx.MockTransport(odd)):
        response = store.client("storefront").get("/api/products")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert (error["code"], error["dependency"]) == ("dependency_failed", "catalog")


# --- registries and gifts ------------------------------------------------------------------------


def test_registries_search_by_name_and_kind(store):
    registry = store.data.registries[0]
    client = store.client("storefront")
    owner = store.data.customers[registry.owner_customer_id - 1]
    found = client.get(f"/api/registries?q={owner.first_name}").get_json()["registries"]
    assert registry.id in [r["id"] for r in found]
    kind = client.get(f"/api/registries?kind={registry.kind}").get_json()["registries"]
    assert kind and {r["kind"] for r in kind} == {registry.kind}


def test_registry_lists_wished_items_with_names_and_prices(store):
    registry = store.data.registries[0]
    body = store.client("storefront").get(f"/api/registries/{registry.id}").get_json()
    assert body["title"] == registry.title
    items = {i["sku"]: i for i in body["items"]}
    assert set(items) == {sku for sku, _ in registry.items}
    sku, wanted = registry.items[0]
    assert items[sku]["wanted"] == wanted
    assert items[sku]["name"] == product(store, sku).name
    assert items[sku]["price_cents"] == product(store, sku).price_cents


@pytest.mark.parametrize("registry_id", ["9999", "99999999999999999999"])
def test_unknown_registry_is_404(store, registry_id):
    response = store.client("storefront").get(f"/api/registries/{registry_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "registry_id"


def gift_body(store: Any, **changes: Any) -> dict[str, Any]:
    registry = store.data.registries[0]
    body = {
        "customer_id": 10,
        "sku": registry.items[0][0],
        "quantity": 1,
        "idempotency_key": "gift-1",
        "card_token": CARD,
    }
    return body | changes


def test_gift_purchase_marks_the_registry(store):
    registry = store.data.registries[0]
    client = store.client("storefront")
    response = client.post(f"/api/registries/{registry.id}/gifts", json=gift_body(store))
    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "confirmed"
    assert order["registry_id"] == registry.id
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [(registry.items[0][0], 1)]
    items = client.get(f"/api/registries/{registry.id}").get_json()["items"]
    assert next(i for i in items if i["sku"] == registry.items[0][0])["purchased"] == 1
    cart = client.get("/api/customers/10/cart").get_json()
    assert cart["items"] == []  # a gift skips the cart


def test_gift_retry_with_the_same_key_orders_once(store):
    registry = store.data.registries[0]
    client = store.client("storefront")
    first = client.post(f"/api/registries/{registry.id}/gifts", json=gift_body(store)).get_json()
    again = client.post(f"/api/registries/{registry.id}/gifts", json=gift_body(store)).get_json()
    assert again["order_id"] == first["order_id"]
    assert len(charges(store, first["order_id"])) == 1


@pytest.mark.parametrize(
    ("registry_id", "changes", "status", "field"),
    [
        (9999, {}, 404, "registry_id"),
        (99999999999999, {}, 404, "registry_id"),
        (1, {"customer_id": 9999}, 404, "customer_id"),
        (1, {"sku": "SKU-9999"}, 404, "sku"),
    ],
)
def test_gift_refused_writes_nothing(store, registry_id, changes, status, field):
    before = everything(store)
    body = gift_body(store, **changes)
    response = store.client("storefront").post(f"/api/registries/{registry_id}/gifts", json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert everything(store) == before


# --- bad input, for every endpoint ---------------------------------------------------------------

ITEMS = "/api/customers/1/cart/items"
LINE = "/api/customers/1/cart/items/SKU-0001"
CHECKOUT = "/api/customers/1/checkout"
GIFTS = "/api/registries/1/gifts"
PAY = {"idempotency_key": "k", "card_token": CARD}
GIFT_OK = {"customer_id": 10, "sku": "SKU-0001", "quantity": 1, "idempotency_key": "g"}


def _with(base: dict[str, Any], **changes: Any) -> str:
    return json.dumps(base | changes)


BAD_BODIES = [
    # path, method, body, status, field
    (ITEMS, "POST", "{not json", 400, "body"),
    (ITEMS, "POST", "[1, 2]", 400, "body"),
    (ITEMS, "POST", "", 400, "body"),
    (ITEMS, "POST", '{"sku": "SKU-0001"}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": "2"}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": 1.5}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": true}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": 0}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": -3}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": 100}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": 1e30}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": 100000000000000000000000}', 422, "quantity"),
    (ITEMS, "POST", '{"sku": 17, "quantity": 1}', 422, "sku"),
    (ITEMS, "POST", '{"sku": "bad sku", "quantity": 1}', 422, "sku"),
    (ITEMS, "POST", '{"sku": "SKU-9999", "quantity": 1}', 404, "sku"),
    (ITEMS, "POST", '{"sku": "SKU-0001", "quantity": 1, "price": 1}', 422, "price"),
    (LINE, "PUT", "{not json", 400, "body"),
    (LINE, "PUT", "{}", 422, "quantity"),
    (LINE, "PUT", '{"quantity": 0}', 422, "quantity"),
    (LINE, "PUT", '{"quantity": 100}', 422, "quantity"),
    (LINE, "PUT", '{"quantity": "5"}', 422, "quantity"),
    (LINE, "PUT", '{"quantity": 5, "sku": "SKU-0002"}', 422, "sku"),
    ("/api/customers/1/cart/items/SKU-9999", "PUT", '{"quantity": 1}', 404, "sku"),
    ("/api/customers/1/cart/items/bad%3Fsku", "PUT", '{"quantity": 1}', 404, "sku"),
    ("/api/customers/1/cart/items/bad%3Fsku", "DELETE", "", 404, "sku"),
    (CHECKOUT, "POST", "{not json", 400, "body"),
    (CHECKOUT, "POST", '"tok_visa"', 400, "body"),
    (CHECKOUT, "POST", '{"idempotency_key": "k"}', 422, "card_token"),
    (CHECKOUT, "POST", '{"idempotency_key": 5, "card_token": "tok_visa"}', 422, "idempotency_key"),
    (CHECKOUT, "POST", _with(PAY, card_token="visa"), 422, "card_token"),
    (CHECKOUT, "POST", _with(PAY, card_token=4242), 422, "card_token"),
    (CHECKOUT, "POST", _with(PAY, idempotency_key=""), 422, "idempotency_key"),
    (CHECKOUT, "POST", _with(PAY, idempotency_key="a b"), 422, "idempotency_key"),
    (CHECKOUT, "POST", _with(PAY, idempotency_key="k\u00e9"), 422, "idempotency_key"),
    (CHECKOUT, "POST", _with(PAY, idempotency_key="k\n"), 422, "idempotency_key"),
    (CHECKOUT, "POST", _with(PAY, idempotency_key="k" * 256), 422, "idempotency_key"),
    (CHECKOUT, "POST", _with(PAY, items=[]), 422, "items"),
    (GIFTS, "POST", "{not json", 400, "body"),
    (GIFTS, "POST", "null", 400, "body"),
    (GIFTS, "POST", _with(GIFT_OK), 422, "card_token"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, quantity=0), 422, "quantity"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, quantity=-1), 422, "quantity"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, quantity=10**12), 422, "quantity"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, customer_id="10"), 422, "customer_id"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, customer_id=0), 422, "customer_id"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, sku=["SKU-0001"]), 422, "sku"),
    (GIFTS, "POST", _with(GIFT_OK, card_token=CARD, registry_id=2), 422, "registry_id"),
]


@pytest.mark.parametrize(("path", "method", "body", "status", "field"), BAD_BODIES)
def test_bad_body_is_refused_and_writes_nothing(store, path, method, body, status, field):
    add(store, "SKU-0001", 1)
    before = everything(store)
    response = store.client("storefront").open(
        path, method=method, data=body, content_type="application/json"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert everything(store) == before


@pytest.mark.parametrize(
    "query",
    [
        "/api/products?limit=0",
        "/api/products?limit=abc",
        "/api/products?limit=1000",
        "/api/products?offset=-1",
        "/api/products?zzz=1",
        "/api/products?q=" + "x" * 101,
        "/api/registries?kind=party",
        "/api/registries?q=" + "x" * 101,
        "/api/registries?owner=1",
    ],
)
def test_bad_query_is_422(store, query):
    response = store.client("storefront").get(query)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_field"


@pytest.mark.parametrize("path", [ITEMS, LINE, CHECKOUT, GIFTS])
def test_oversized_body_is_413_and_writes_nothing(store, path):
    add(store, "SKU-0001", 1)
    before = everything(store)
    big = json.dumps({"idempotency_key": "k" * (store.settings.max_body_bytes + 10)})
    method = "PUT" if path == LINE else "POST"
    response = store.client("storefront").open(
        path, method=method, data=big, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert everything(store) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/products"),
        ("POST", "/api/products/SKU-0001"),
        ("PUT", "/api/customers/1"),
        ("POST", "/api/customers/1/cart"),
        ("GET", ITEMS),
        ("PATCH", LINE),
        ("GET", CHECKOUT),
        ("DELETE", "/api/orders/ord_1"),
        ("POST", "/api/registries"),
        ("DELETE", "/api/registries/1"),
        ("GET", GIFTS),
        ("POST", "/api/openapi.json"),
    ],
)
def test_wrong_method_is_405(store, method, path):
    before = everything(store)
    response = store.client("storefront").open(path, method=method)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert everything(store) == before
