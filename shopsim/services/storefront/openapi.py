"""The OpenAPI 3.1 document of the storefront's JSON API.

Request bodies and query strings come from the pydantic models the views validate with (their
``$defs`` hoisted into ``components.schemas``); responses from the models below, which
describe what the API answers. Every operation lists the house error responses it can give.
`tests/test_openapi.py` keeps this table equal to the app's /api routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from shopsim.validation import CustomerId, Model, Query, Sku

from . import api, shop

REF = "#/components/schemas/{model}"


class Open(BaseModel):
    """A response shape: the fields listed are promised, others may appear."""

    model_config = ConfigDict(extra="allow")


class Product(Open):
    sku: str
    name: str
    description: str
    category: str
    price_cents: int
    doorbuster: bool


class ProductPage(Open):
    products: list[Product]
    more: bool


class Customer(Open):
    id: int
    first_name: str
    last_name: str
    email: str


class CartLine(Open):
    sku: str
    name: str
    quantity: int
    price_cents: int
    line_cents: int


class Cart(Open):
    customer_id: int
    items: list[CartLine]
    subtotal_cents: int


class OrderItem(Open):
    sku: str
    quantity: int
    price_cents: int


class Order(Open):
    order_id: str
    status: str
    items: list[OrderItem]
    total_cents: int = 0
    registry_id: int | None = None


class RegistrySummary(Open):
    id: int
    kind: str
    title: str
    owner_customer_id: int
    owner_name: str


class RegistryList(Open):
    registries: list[RegistrySummary]


class RegistryItem(Open):
    sku: str
    wanted: int
    purchased: int
    name: str
    price_cents: int


class Registry(RegistrySummary):
    items: list[RegistryItem]


class StatusIndicator(Open):
    indicator: str
    description: str


class StatusComponent(Open):
    name: str
    title: str
    status: str
    updated_at: str | None


class StatusUpdate(Open):
    status: str
    body: str
    created_at: str


class StatusIncident(Open):
    id: int
    name: str
    status: str
    impact: str
    components: list[str]
    created_at: str
    updated_at: str
    resolved_at: str | None
    updates: list[StatusUpdate]


class StatusPage(Open):
    status: StatusIndicator
    components: list[StatusComponent]
    incidents: list[StatusIncident]


class ErrorBody(Open):
    code: str
    message: str
    field: str | None = None
    incident: str | None = None


class Error(BaseModel):
    """The house error shape, for every status >= 400."""

    error: ErrorBody


ERRORS = {
    400: "Malformed JSON or a body that is not an object (code malformed_json).",
    402: "The card was declined (card_declined, insufficient_funds).",
    404: (
        "Unknown customer, product, order or registry, or a gift of a SKU its registry does not"
        " list (not_on_registry); `field` names it."
    ),
    405: "Method not allowed.",
    409: (
        "State conflict: insufficient_stock, cart_empty, cart_full, line_full,"
        " idempotency_key_reused, ..."
    ),
    413: "Request body too large.",
    414: "Request line (path and query string) too long; refused before the route is known.",
    422: "A missing, unknown, mistyped or out-of-range field; `field` names it.",
    503: "A dependency failed (dependency_failed, with an `incident` reference) or overloaded.",
}
BODY_ERRORS = (400, 413, 422)
ANY_REQUEST_ERRORS = (405, 414)  # any path can be sent with another method, or too long

#: Path parameters by name: the same checks the views apply.
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "customer_id": TypeAdapter(CustomerId).json_schema(),
    "registry_id": TypeAdapter(CustomerId).json_schema(),  # the same id range
    "sku": TypeAdapter(Sku).json_schema(),
    # JSON Schema patterns search; anchored, "$" means the very end in its (ECMA) dialect.
    "order_id": {"type": "string", "pattern": f"^(?:{shop.ORDER_ID.pattern})$"},
}


@dataclass(frozen=True)
class Operation:
    """One documented route."""

    summary: str
    ok: tuple[int, type[BaseModel] | None]
    errors: tuple[int, ...] = ()
    body: type[Model] | None = None
    query: type[Query] | None = None


CUSTOMER = (404, 503)
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/api/products", "get"): Operation(
        "Search products", (200, ProductPage), (422, 503), query=api.ProductQuery
    ),
    ("/api/products/{sku}", "get"): Operation("One product", (200, Product), (404, 503)),
    ("/api/customers/{customer_id}", "get"): Operation("One customer", (200, Customer), (404,)),
    ("/api/customers/{customer_id}/cart", "get"): Operation(
        "The customer's priced cart", (200, Cart), CUSTOMER
    ),
    ("/api/customers/{customer_id}/cart/items", "post"): Operation(
        "Add to a cart line", (200, Cart), (*CUSTOMER, 409), body=api.CartItemRequest
    ),
    ("/api/customers/{customer_id}/cart/items/{sku}", "put"): Operation(
        "Set a cart line's quantity", (200, Cart), CUSTOMER, body=api.QuantityRequest
    ),
    ("/api/customers/{customer_id}/cart/items/{sku}", "delete"): Operation(
        "Remove a cart line", (200, Cart), CUSTOMER
    ),
    ("/api/customers/{customer_id}/checkout", "post"): Operation(
        "Buy what is in the cart", (201, Order), (*CUSTOMER, 402, 409), body=api.CheckoutRequest
    ),
    ("/api/orders/{order_id}", "get"): Operation("One order", (200, Order), (404, 503)),
    ("/api/registries", "get"): Operation(
        "Search gift registries", (200, RegistryList), (422, 503), query=api.RegistryQuery
    ),
    ("/api/registries/{registry_id}", "get"): Operation(
        "One registry and its wished items", (200, Registry), (404, 503)
    ),
    ("/api/registries/{registry_id}/gifts", "post"): Operation(
        "Buy a registry item as a gift", (201, Order), (404, 402, 409, 503), body=api.GiftRequest
    ),
    ("/api/status", "get"): Operation(
        "The status page: components and incidents (written by operators only)",
        (200, StatusPage),
    ),
    ("/api/openapi.json", "get"): Operation("This document", (200, None)),
}


def _hoist(model: type[BaseModel], schemas: dict[str, Any], mode: JsonSchemaMode) -> dict[str, Any]:
    """Add `model` (and its $defs) to `schemas`; return a reference to it."""
    schema = model.model_json_schema(ref_template=REF, mode=mode)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in PATH_PARAMS.items()
        if "{" + name + "}" in path
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        for name, prop in schema["properties"].items():
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    return params


def _responses(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    status, model = op.ok
    content = _hoist(model, schemas, "serialization") if model else {"type": "object"}
    out: dict[str, Any] = {
        str(status): {"description": "OK", "content": {"application/json": {"schema": content}}}
    }
    codes = sorted({*op.errors, *(BODY_ERRORS if op.body else ()), *ANY_REQUEST_ERRORS})
    for code in codes:
        out[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return out


def build_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    schemas: dict[str, Any] = {}
    _hoist(Error, schemas, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), op in OPERATIONS.items():
        operation: dict[str, Any] = {
            "operationId": re.sub(r"[^a-z0-9]+", "_", f"{method} {path}".lower()).strip("_"),
            "summary": op.summary,
            "parameters": _parameters(path, op),
            "responses": _responses(op, schemas),
        }
        if op.body is not None:
            ref = _hoist(op.body, schemas, "validation")
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref}},
            }
        paths.setdefault(path, {})[method] = operation
    responses = {
        f"E{code}": {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
        for code, text in ERRORS.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shopsim storefront",
            "version": "0.1.0",
            "description": (
                "The storefront's JSON API. Money is integer cents. Numbers are read as JSON"
                " Schema reads them: an integer field takes 22.0 as 22 and refuses 22.5."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas, "responses": responses},
    }
