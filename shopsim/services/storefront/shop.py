"""What the JSON API and the HTML pages both do, built on the storefront's dependencies.

Identifiers taken from a URL are checked here before they go into another service's URL: a
value that cannot name anything is a 404 at once, and nothing odd (``?``, ``%``, ``..``) is
ever spliced into a downstream path.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from shopsim.context import ServiceContext
from shopsim.errors import NotFound
from shopsim.seeddata import Customer
from shopsim.validation import Sku

from .customers import MAX_ID, MIN_ID

_SKU: TypeAdapter[str] = TypeAdapter(Sku)
#: Checkout's order ids are "ord_" + hex; anything this pattern refuses cannot be an order.
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # used with fullmatch: "$" lets "\n" in


def check_sku(sku: str, field: str = "sku") -> str:
    """`sku` if it has the shape of a SKU, else 404 (no product can have that name)."""
    try:
        return _SKU.validate_python(sku)
    except ValidationError:
        raise NotFound(f"no product with SKU {sku!r}", field=field) from None


def check_registry_id(registry_id: int) -> int:
    """`registry_id` if it is in range, else 404."""
    if not MIN_ID <= registry_id <= MAX_ID:
        raise NotFound(f"no registry with id {registry_id}", field="registry_id")
    return registry_id


def search(ctx: ServiceContext, params: dict[str, Any]) -> dict[str, Any]:
    """Catalog search: {"products": [...], "more": bool}."""
    return ctx.dep("catalog").call("GET", "/products", params=params)


def product(ctx: ServiceContext, sku: str) -> dict[str, Any]:
    """One product from the catalog (404 field ``sku``)."""
    return ctx.dep("catalog").call("GET", f"/products/{check_sku(sku)}")


def price_lines(
    ctx: ServiceContext, customer_id: int, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """A cart's lines with names and current prices, and the subtotal."""
    lines = []
    for item in items:
        found = product(ctx, item["sku"])
        lines.append(
            {
                "sku": item["sku"],
                "name": found["name"],
                "quantity": item["quantity"],
                "price_cents": found["price_cents"],
                "line_cents": found["price_cents"] * item["quantity"],
            }
        )
    subtotal = sum(line["line_cents"] for line in lines)
    return {"customer_id": customer_id, "items": lines, "subtotal_cents": subtotal}


def priced_cart(ctx: ServiceContext, customer_id: int) -> dict[str, Any]:
    """The customer's cart, priced."""
    cart = ctx.dep("cart").call("GET", f"/carts/{customer_id}")
    return price_lines(ctx, customer_id, cart["items"])


def add_to_cart(ctx: ServiceContext, customer_id: int, sku: str, quantity: int) -> dict[str, Any]:
    """Add `quantity` to a cart line; returns the priced cart."""
    body = {"sku": sku, "quantity": quantity}
    cart = ctx.dep("cart").call("POST", f"/carts/{customer_id}/items", json=body)
    return price_lines(ctx, customer_id, cart["items"])


def set_quantity(ctx: ServiceContext, customer_id: int, sku: str, quantity: int) -> dict[str, Any]:
    """Set a cart line's quantity; returns the priced cart."""
    path = f"/carts/{customer_id}/items/{check_sku(sku)}"
    cart = ctx.dep("cart").call("PUT", path, json={"quantity": quantity})
    return price_lines(ctx, customer_id, cart["items"])


def remove_from_cart(ctx: ServiceContext, customer_id: int, sku: str) -> dict[str, Any]:
    """Remove a cart line (404 field ``sku`` when it is not in the cart); the priced cart."""
    cart = ctx.dep("cart").call("DELETE", f"/carts/{customer_id}/items/{check_sku(sku)}")
    return price_lines(ctx, customer_id, cart["items"])


def place_order(
    ctx: ServiceContext,
    customer: Customer,
    *,
    idempotency_key: str,
    card_token: str,
    items: list[dict[str, Any]] | None = None,
    registry_id: int | None = None,
) -> dict[str, Any]:
    """Run checkout for the customer: their cart, or `items` bought for a registry."""
    body: dict[str, Any] = {
        "customer_id": customer.id,
        "idempotency_key": idempotency_key,
        "card_token": card_token,
        "email": customer.email,
        "name": customer.name,
    }
    if items is not None:
        body["items"] = items
    if registry_id is not None:
        body["registry_id"] = registry_id
    # The header makes the client retry a lost response; checkout replays the stored outcome.
    headers = {"Idempotency-Key": idempotency_key}
    return ctx.dep("checkout").call("POST", "/checkouts", json=body, headers=headers)


def order(ctx: ServiceContext, order_id: str) -> dict[str, Any]:
    """One order from checkout (404 field ``order_id``)."""
    if not ORDER_ID.fullmatch(order_id):
        raise NotFound(f"no order {order_id!r}", field="order_id")
    return ctx.dep("checkout").call("GET", f"/orders/{order_id}")


def registries(ctx: ServiceContext, params: dict[str, Any]) -> dict[str, Any]:
    """Registry search: {"registries": [...]}."""
    return ctx.dep("registry").call("GET", "/registries", params=params)


def registry(ctx: ServiceContext, registry_id: int) -> dict[str, Any]:
    """One registry, its wished items with product names and prices."""
    path = f"/registries/{check_registry_id(registry_id)}"
    found = ctx.dep("registry").call("GET", path)
    for item in found["items"]:
        details = product(ctx, item["sku"])
        item["name"], item["price_cents"] = details["name"], details["price_cents"]
    return found


def buy_gift(
    ctx: ServiceContext,
    customer: Customer,
    registry_id: int,
    *,
    sku: str,
    quantity: int,
    idempotency_key: str,
    card_token: str,
) -> dict[str, Any]:
    """Buy one registry item as a gift: a direct checkout tied to the registry."""
    wished = ctx.dep("registry").call("GET", f"/registries/{check_registry_id(registry_id)}")
    # Refused here: no checkout call for a gift that cannot be bought.
    if sku not in {item["sku"] for item in wished["items"]}:
        raise NotFound(
            f"{sku} is not on registry {registry_id}", field="sku", code="not_on_registry"
        )
    return place_order(
        ctx,
        customer,
        idempotency_key=idempotency_key,
        card_token=card_token,
        items=[{"sku": sku, "quantity": quantity}],
        registry_id=registry_id,
    )
