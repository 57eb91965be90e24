"""The storefront's OpenAPI document stays true: the same routes as the app, the same request
models as the views, a valid OpenAPI 3.1 document, and real responses that match it."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from shopsim.services.storefront import openapi
from shopsim.services.storefront.openapi import REF, build_document

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app: Any) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every /api rule of the app."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            out.add((path, method.lower()))
    return out


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def view_for(app: Any, path: str, method: str) -> Any:
    """The view function Flask dispatches (path, method) to."""
    adapter = app.url_map.bind("localhost")
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    endpoint, _ = adapter.match(concrete, method=method.upper())
    return app.view_functions[endpoint]


def schema_of(doc: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    """A schema that jsonschema can check on its own: the document's components come along."""
    return {**ref_or_schema, "components": doc["components"]}


def check(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Validate `body` against what the document says (path, method) answers with `status`."""
    response = doc["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator(schema_of(doc, schema)).validate(body)


@pytest.fixture
def doc() -> dict[str, Any]:
    return build_document()


def test_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_document_has_exactly_the_apps_api_routes(store, doc):
    assert documented(doc) == api_routes(store.apps["storefront"])


def test_served_document_is_the_built_one(store, doc):
    response = store.client("storefront").get("/api/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == doc


def test_request_bodies_are_the_models_the_views_validate_with(store, doc):
    app = store.apps["storefront"]
    schemas = doc["components"]["schemas"]
    for (path, method), op in openapi.OPERATIONS.items():
        view_model = getattr(view_for(app, path, method), "request_model", None)
        assert op.body is view_model, (path, method)
        body = doc["paths"][path][method].get("requestBody")
        if view_model is None:
            assert body is None, (path, method)
            continue
        ref = body["content"]["application/json"]["schema"]["$ref"]
        assert ref == REF.format(model=view_model.__name__)
        expected = view_model.model_json_schema(ref_template=REF)
        expected.pop("$defs", None)
        assert schemas[view_model.__name__] == expected
        assert schemas[view_model.__name__]["additionalProperties"] is False


def test_views_refuse_what_the_document_says_is_required(store, doc):
    """An empty object is refused naming the first required field of the documented schema."""
    client = store.client("storefront")
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if "requestBody" not in op:
                continue
            name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            required = schemas[name.rsplit("/", 1)[1]]["required"]
            concrete = path.format(customer_id=1, registry_id=1, sku="SKU-0001")
            response = client.open(concrete, method=method.upper(), json={})
            assert response.status_code == 422, (path, method)
            assert response.get_json()["error"]["field"] == required[0], (path, method)
            check(doc, path, method, 422, response.get_json())


def test_query_parameters_are_the_query_models_fields(doc):
    for (path, method), op in openapi.OPERATIONS.items():
        params = doc["paths"][path][method]["parameters"]
        query = {p["name"] for p in params if p["in"] == "query"}
        expected = set(op.query.model_fields) if op.query else set()
        assert query == expected, (path, method)
        in_path = {p["name"] for p in params if p["in"] == "path"}
        assert in_path == set(re.findall(r"\{([^}]+)\}", path)), (path, method)


def test_every_operation_documents_house_errors(doc):
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = {int(c) for c in op["responses"]}
            assert {405, 414} <= codes, (path, method)
            if "requestBody" in op:
                assert {400, 413, 422} <= codes, (path, method)
            if "{" in path:
                assert 404 in codes, (path, method)


def test_real_responses_match_their_schemas(store, doc):
    client = store.client("storefront")
    cases = [
        ("/api/products", "get", "/api/products?limit=3", 200),
        ("/api/products/{sku}", "get", "/api/products/SKU-0001", 200),
        ("/api/products/{sku}", "get", "/api/products/SKU-9999", 404),
        ("/api/customers/{customer_id}", "get", "/api/customers/1", 200),
        ("/api/customers/{customer_id}", "get", "/api/customers/9999", 404),
        ("/api/registries", "get", "/api/registries?q=a", 200),
        ("/api/registries", "get", "/api/registries?kind=party", 422),
        ("/api/registries/{registry_id}", "get", "/api/registries/1", 200),
    ]
    for path, method, url, status in cases:
        response = client.get(url)
        assert response.status_code == status, url
        check(doc, path, method, status, response.get_json())


def test_cart_and_order_responses_match_their_schemas(store, doc):
    client = store.client("storefront")
    response = client.post("/api/customers/1/cart/items", json={"sku": "SKU-0001", "quantity": 2})
    check(doc, "/api/customers/{customer_id}/cart/items", "post", 200, response.get_json())
    cart = client.get("/api/customers/1/cart").get_json()
    check(doc, "/api/customers/{customer_id}/cart", "get", 200, cart)
    response = client.post(
        "/api/customers/1/checkout", json={"idempotency_key": "k", "card_token": "tok_visa"}
    )
    assert response.status_code == 201
    order = response.get_json()
    check(doc, "/api/customers/{customer_id}/checkout", "post", 201, order)
    fetched = client.get(f"/api/orders/{order['order_id']}").get_json()
    check(doc, "/api/orders/{order_id}", "get", 200, fetched)
    gift = client.post(
        "/api/registries/1/gifts",
        json={
            "customer_id": 1,
            "sku": store.data.registries[0].items[0][0],
            "quantity": 1,
            "idempotency_key": "g",
            "card_token": "tok_visa",
        },
    )
    check(doc, "/api/registries/{registry_id}/gifts", "post", 201, gift.get_json())


def test_a_wrong_response_fails_its_schema(doc):
    """The check above can fail: a cart without its subtotal is not a Cart."""
    with pytest.raises(jsonschema.ValidationError):
        check(doc, "/api/customers/{customer_id}/cart", "get", 200, {"customer_id": 1, "items": []})


NUMBERS = ["22", "22.0", "2.2e1", "99.0", "22.5", "1e2", "0.0", "-1.0", "true", '"22"', "null"]


@pytest.mark.parametrize("quantity", NUMBERS)
def test_document_and_server_agree_on_numbers(store, doc, quantity):
    """JSON has one number type: whatever the document calls a valid quantity, the server takes
    (22.0 is the integer 22), and whatever it refuses, the server answers with 422."""
    raw = '{"sku": "SKU-0001", "quantity": ' + quantity + "}"
    schema = {"$ref": REF.format(model="CartItemRequest")}
    valid = jsonschema.Draft202012Validator(schema_of(doc, schema)).is_valid(json.loads(raw))
    response = store.client("storefront").post(
        "/api/customers/1/cart/items", data=raw, content_type="application/json"
    )
    assert response.status_code == (200 if valid else 422), response.get_json()
    if valid:
        assert response.get_json()["items"][0]["quantity"] == round(json.loads(raw)["quantity"])


def test_a_valid_gift_of_a_sku_off_the_registry_is_a_documented_404(store, doc):
    """A SKU-shaped value passes the schema, so the refusal is not a 422 but a documented 404."""
    registry = store.data.registries[0]
    other = next(p.sku for p in store.data.products if p.sku not in dict(registry.items))
    body = {"customer_id": 1, "sku": other, "quantity": 1, "idempotency_key": "g"}
    body["card_token"] = "tok_visa"
    schema = {"$ref": REF.format(model="GiftRequest")}
    jsonschema.Draft202012Validator(schema_of(doc, schema)).validate(body)
    response = store.client("storefront").post(f"/api/registries/{registry.id}/gifts", json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_on_registry"
    assert "404" in doc["paths"]["/api/registries/{registry_id}/gifts"]["post"]["responses"]
    check(doc, "/api/registries/{registry_id}/gifts", "post", 404, response.get_json())
