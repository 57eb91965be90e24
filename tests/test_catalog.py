"""catalog: product reads, search, batch prices, the cache, and bad input."""

from __future__ import annotations

import pytest


def test_product_found_by_sku(store):
    response = store.client("catalog").get("/products/SKU-0001")
    assert response.status_code == 200
    product = response.get_json()
    expected = store.data.products[0]
    assert product["name"] == expected.name
    assert product["price_cents"] == expected.price_cents


def test_unknown_sku_is_404_naming_the_field(store):
    response = store.client("catalog").get("/products/NOPE-1")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "sku"


def test_search_filters_by_text_and_pages(store):
    client = store.client("catalog")
    body = client.get("/products?q=doorbuster&limit=2").get_json()
    assert len(body["products"]) == 2
    assert all("Doorbuster" in p["name"] for p in body["products"])
    assert body["more"] is True


def test_prices_for_a_batch(store):
    skus = [p.sku for p in store.data.products[:3]]
    body = store.client("catalog").post("/prices", json={"skus": skus}).get_json()
    assert body["prices"] == {p.sku: p.price_cents for p in store.data.products[:3]}


def test_cache_hits_on_second_read(store):
    client = store.client("catalog")
    client.get("/products/SKU-0002")
    client.get("/products/SKU-0002")
    labels = {"cache": "catalog", "result": "hit"}
    assert store.metric("catalog", "shopsim_cache_lookups_total", labels) == 1.0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[1, 2]", 400, "body"),
        ('{"skus": "SKU-0001"}', 422, "skus"),
        ('{"skus": []}', 422, "skus"),
        ('{"skus": [1]}', 422, "skus[0]"),
        ('{"skus": ["SKU-0001"], "extra": 1}', 422, "extra"),
        ('{"skus": ["SKU-0001", "SKU-9999"]}', 404, "skus[1]"),
    ],
)
def test_prices_bad_input(store, body, status, field):
    response = store.client("catalog").post("/prices", data=body, content_type="application/json")
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=1000", "offset=-1", "zzz=1"])
def test_search_bad_query_is_422(store, query):
    response = store.client("catalog").get(f"/products?{query}")
    assert response.status_code == 422


def test_wrong_method_is_405(store):
    response = store.client("catalog").delete("/products/SKU-0001")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_oversized_body_is_413(store):
    big = '{"skus": ["' + "A" * (store.settings.max_body_bytes + 10) + '"]}'
    response = store.client("catalog").post("/prices", data=big, content_type="application/json")
    assert response.status_code == 413
