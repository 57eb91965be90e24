"""The storefront's JSON API under /api: browse, cart, checkout, orders, registries, gifts.

Each view that takes a body declares its request model with `@takes(Model)`; the decorator
parses the body with it and records it on the view, and the OpenAPI document is built from the
same models. Routes under /api/customers/<id> check the customer exists before anything else.
A dependency that fails answers 503 ``dependency_failed`` with an incident reference to quote.

Its route list is the operation table in openapi.py (what each one takes and answers), which
`tests/test_openapi.py` keeps equal to the routes below; a list here would be a third copy.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, g, jsonify, request
from pydantic import Field, StringConstraints

from shopsim.client import DependencyFailed
from shopsim.context import current
from shopsim.errors import incident_reference
from shopsim.validation import (
    CustomerId,
    IdempotencyKey,
    Model,
    Quantity,
    Query,
    Sku,
    parse_body,
    parse_query,
)

from . import shop, state
from .customers import customer_json, require_customer

log = logging.getLogger("shopsim")

#: Keys travel on as an HTTP header, so only printable ASCII without spaces.
HeaderSafeKey = Annotated[IdempotencyKey, StringConstraints(pattern=r"^[!-~]+$")]
CardToken = Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9_]{1,60}$")]


class ProductQuery(Query):
    """GET /api/products query string."""

    q: Annotated[str, Field(max_length=100)] = ""
    category: Annotated[str, Field(max_length=50)] = ""
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0


class RegistryQuery(Query):
    """GET /api/registries query string."""

    q: Annotated[str, Field(max_length=100)] = ""
    kind: Literal["baby", "wedding", "birthday"] | None = None


class CartItemRequest(Model):
    """Add a quantity of a product to the cart."""

    sku: Sku
    quantity: Quantity


class QuantityRequest(Model):
    """Set a cart line's quantity."""

    quantity: Quantity


class CheckoutRequest(Model):
    """Buy what is in the cart. Retrying with the same key never orders twice."""

    idempotency_key: HeaderSafeKey
    card_token: CardToken


class GiftRequest(Model):
    """Buy an item of a registry as a gift."""

    customer_id: CustomerId
    sku: Sku
    quantity: Quantity
    idempotency_key: HeaderSafeKey
    card_token: CardToken


View = Callable[..., Any]

bp = Blueprint("api", __name__, url_prefix="/api")


class BodyView:
    """A view whose body is parsed with `request_model` first and passed on as ``body``; the
    OpenAPI tests read `request_model` off the registered view."""

    def __init__(self, view: View, request_model: type[Model]) -> None:
        functools.update_wrapper(self, view)  # flask names the endpoint after view.__name__
        self.view = view
        self.request_model = request_model

    def __call__(self, **kwargs: Any) -> Any:
        return self.view(body=parse_body(request, self.request_model), **kwargs)


def takes(model: type[Model]) -> Callable[[View], BodyView]:
    """Parse the request body with `model` and pass it to the view as ``body``."""
    return lambda view: BodyView(view, model)


@bp.before_request
def _known_customer() -> None:
    """Every /api/customers/<id> route starts with: does this customer exist?"""
    customer_id = (request.view_args or {}).get("customer_id")
    if customer_id is not None:
        g.customer = require_customer(current().db, customer_id)


@bp.errorhandler(DependencyFailed)
def _dependency_failed(err: DependencyFailed) -> tuple[Response, int, dict[str, str]]:
    """503 with an incident reference that support can find in the log."""
    ref = incident_reference()
    log.warning("incident %s: %s %s: %s", ref, request.method, request.path, err.message)
    err.extra["incident"] = ref
    return jsonify(err.body()), err.status, err.headers


@bp.get("/products")
def list_products() -> Response:
    """Search the catalog."""
    query = parse_query(request.args, ProductQuery)
    return jsonify(shop.search(current(), query.model_dump()))


@bp.get("/products/<sku>")
def get_product(sku: str) -> Response:
    """One product."""
    return jsonify(shop.product(current(), sku))


@bp.get("/customers/<int:customer_id>")
def get_customer(customer_id: int) -> Response:
    """One customer."""
    return jsonify(customer_json(g.customer))


@bp.get("/customers/<int:customer_id>/cart")
def get_cart(customer_id: int) -> Response:
    """The customer's cart with names, prices and the subtotal."""
    return jsonify(shop.priced_cart(current(), customer_id))


@bp.post("/customers/<int:customer_id>/cart/items")
@takes(CartItemRequest)
def add_cart_item(customer_id: int, body: CartItemRequest) -> Response:
    """Add to a cart line."""
    return jsonify(shop.add_to_cart(current(), customer_id, body.sku, body.quantity))


@bp.put("/customers/<int:customer_id>/cart/items/<sku>")
@takes(QuantityRequest)
def set_cart_item(customer_id: int, sku: str, body: QuantityRequest) -> Response:
    """Set a cart line's quantity."""
    return jsonify(shop.set_quantity(current(), customer_id, sku, body.quantity))


@bp.delete("/customers/<int:customer_id>/cart/items/<sku>")
def delete_cart_item(customer_id: int, sku: str) -> Response:
    """Remove a cart line."""
    return jsonify(shop.remove_from_cart(current(), customer_id, sku))


@bp.post("/customers/<int:customer_id>/checkout")
@takes(CheckoutRequest)
def checkout(customer_id: int, body: CheckoutRequest) -> tuple[Response, int]:
    """Place an order for everything in the cart."""
    order = shop.place_order(
        current(), g.customer, idempotency_key=body.idempotency_key, card_token=body.card_token
    )
    return jsonify(order), 201


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    """One order."""
    return jsonify(shop.order(current(), order_id))


@bp.get("/registries")
def list_registries() -> Response:
    """Search gift registries by title or owner name."""
    query = parse_query(request.args, RegistryQuery)
    return jsonify(shop.registries(current(), query.model_dump(exclude_none=True)))


@bp.get("/registries/<int:registry_id>")
def get_registry(registry_id: int) -> Response:
    """One registry with its wished items."""
    return jsonify(shop.registry(current(), registry_id))


@bp.post("/registries/<int:registry_id>/gifts")
@takes(GiftRequest)
def buy_gift(registry_id: int, body: GiftRequest) -> tuple[Response, int]:
    """Buy an item of the registry as a gift."""
    ctx = current()
    customer = require_customer(ctx.db, body.customer_id)
    order = shop.buy_gift(
        ctx,
        customer,
        registry_id,
        sku=body.sku,
        quantity=body.quantity,
        idempotency_key=body.idempotency_key,
        card_token=body.card_token,
    )
    return jsonify(order), 201


@bp.get("/openapi.json")
def openapi() -> Response:
    """This API's OpenAPI 3.1 document."""
    return jsonify(state.of(current()).openapi)
