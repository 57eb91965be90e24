"""The one JSON body reader, through every service that takes a body (the chaos API included):
hostile JSON is a 400 naming ``body`` and writes nothing; numbers read as JSON Schema counts
them (22.0 is the integer 22)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shopsim.validation import MAX_JSON_DEPTH, json_depth_exceeds, read_json
from tests.conftest import everything

#: Every route that reads a JSON body, as (service, method, path).
BODY_ROUTES = [
    ("storefront", "POST", "/api/customers/1/cart/items"),
    ("storefront", "PUT", "/api/customers/1/cart/items/SKU-0001"),
    ("storefront", "POST", "/api/customers/1/checkout"),
    ("storefront", "POST", "/api/registries/1/gifts"),
    ("catalog", "POST", "/prices"),
    ("cart", "POST", "/carts/1/items"),
    ("cart", "PUT", "/carts/1/items/SKU-0001"),
    ("cart", "POST", "/carts/1/purchases"),
    ("inventory", "POST", "/reservations"),
    ("payment", "POST", "/authorizations"),
    ("payment", "POST", "/authorizations/auth_1/capture"),
    ("payment", "POST", "/authorizations/auth_1/void"),
    ("checkout", "POST", "/checkouts"),
    ("registry", "POST", "/registries/1/purchases"),
    ("notifications", "POST", "/messages"),
    ("notifications", "POST", "/contacts"),
    ("notifications", "POST", "/registry-subscriptions"),
    *[(s, "POST", "/_chaos/faults") for s in ("storefront", "cart", "checkout")],
    *[(s, "PUT", "/_chaos/resilience") for s in ("storefront", "cart", "checkout")],
]

HOSTILE = {
    "nested 50,000 deep": "[" * 50_000,
    "nested objects": '{"a":' * 5_000 + "1" + "}" * 5_000,
    "just past the limit": "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
    "NaN": '{"quantity": NaN}',
    "Infinity": '{"quantity": -Infinity}',
    "lone surrogate": '{"sku": "\\ud800"}',
    "not UTF-8": b'{"sku": "\xff"}',
    "trailing garbage": '{"sku": "SKU-0001"} x',
}


def send(store: Any, service: str, method: str, path: str, body: str | bytes) -> Any:
    return store.client(service).open(
        path,
        method=method,
        data=body,
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )


@pytest.mark.parametrize(("service", "method", "path"), BODY_ROUTES)
def test_hostile_json_is_400_naming_body_and_writes_nothing(store, service, method, path):
    before = everything(store)
    for name, body in HOSTILE.items():
        response = send(store, service, method, path, body)
        assert response.status_code == 400, (name, response.get_data(as_text=True)[:300])
        error = response.get_json()["error"]
        assert (error["code"], error["field"]) == ("malformed_json", "body"), name
    assert everything(store) == before
    assert store.ctx(service).faults.active() == []


def test_every_write_route_survives_deep_json(store):
    """No route of any service answers 5xx to a deeply nested body, body-less routes included."""
    for name in store.apps:
        for rule in store.apps[name].url_map.iter_rules():
            for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
                path = re.sub(r"<int:[^>]+>", "1", rule.rule)
                path = re.sub(r"<[^>]+>", "SKU-0001", path)
                response = send(store, name, method, path, "[" * 50_000)
                assert response.status_code < 500, (name, method, path)


def test_depth_limit_is_exact_and_ignores_brackets_in_strings():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert not json_depth_exceeds(at_limit.encode())
    assert read_json(at_limit.encode()) is not None
    assert json_depth_exceeds(("[" + at_limit + "]").encode())
    in_strings = json.dumps({"note": "[{" * 1000, "escaped": '\\"[[[[' * 100})
    assert not json_depth_exceeds(in_strings.encode())
    assert read_json(in_strings.encode())["note"] == "[{" * 1000


@pytest.mark.parametrize(
    ("text", "value"),
    [("22.0", 22), ("1e1", 10), ("-0.0", 0), ("2.5", 2.5), ("1e400", float("inf"))],
)
def test_numbers_are_read_as_json_schema_counts_them(text, value):
    read = read_json(text.encode())
    assert read == value
    assert isinstance(read, int) == isinstance(value, int)


def test_integers_longer_than_python_reads_are_out_of_range(store):
    body = '{"sku": "SKU-0001", "quantity": ' + "9" * 5000 + "}"
    response = send(store, "storefront", "POST", "/api/customers/1/cart/items", body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "quantity"


@pytest.mark.parametrize("quantity", ["22.0", "2.2e1", "22.000"])
def test_integer_valued_float_quantity_is_that_integer(store, quantity):
    body = '{"sku": "SKU-0001", "quantity": ' + quantity + "}"
    response = send(store, "storefront", "POST", "/api/customers/1/cart/items", body)
    assert response.status_code == 200
    assert response.get_json()["items"][0]["quantity"] == 22
    assert isinstance(response.get_json()["items"][0]["quantity"], int)


@pytest.mark.parametrize("quantity", ["22.5", "1e-3", "true", '"22"', "null"])
def test_fractional_or_mistyped_quantity_is_422(store, quantity):
    before = everything(store)
    body = '{"sku": "SKU-0001", "quantity": ' + quantity + "}"
    response = send(store, "storefront", "POST", "/api/customers/1/cart/items", body)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "quantity"
    assert everything(store) == before


def test_chaos_fault_spec_reads_integral_floats_too(store):
    spec = '{"type": "latency", "target": "cart", "duration_s": 30.0, "params": {"ms": 50.0}}'
    response = send(store, "cart", "POST", "/_chaos/faults", spec)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["fault"]["duration_s"] == 30
