"""Steps 1 and 2 of a checkout: what is bought and at what price.

The lines are the cart's, or the ones the request gives; a gift's lines must all be on its
registry. Prices are the catalog's at this moment, quoted once per attempt.
"""

from __future__ import annotations

from typing import Any

from shopsim.client import Dependency
from shopsim.errors import Conflict, NotFound


def lines(
    cart: Dependency,
    registry: Dependency,
    customer_id: int,
    items: list[dict[str, Any]] | None,
    registry_id: int | None,
) -> tuple[list[dict[str, Any]], bool]:
    """Step 1: the lines to buy, and whether they came from the cart (409 when there are none)."""
    if items is not None:
        wanted, from_cart = items, False
    else:
        found = cart.call("GET", f"/carts/{customer_id}")
        wanted = [{"sku": i["sku"], "quantity": i["quantity"]} for i in found["items"]]
        from_cart = True
    if not wanted:
        raise Conflict("there is nothing to check out", field="items", code="cart_empty")
    if registry_id is not None:
        listed = registry.call("GET", f"/registries/{registry_id}")
        on_registry = {item["sku"] for item in listed["items"]}
        for i, line in enumerate(wanted):
            if line["sku"] not in on_registry:
                raise NotFound(
                    f"{line['sku']} is not on registry {registry_id}",
                    field=f"items[{i}].sku",
                    code="not_on_registry",
                )
    return wanted, from_cart


def price(
    catalog: Dependency, wanted: list[dict[str, Any]], headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Step 2: each line with its price_cents (404 naming the line of an unknown SKU)."""
    skus = [line["sku"] for line in wanted]
    try:
        prices = catalog.call("POST", "/prices", json={"skus": skus}, headers=headers)["prices"]
    except NotFound as err:  # catalog names "skus[i]"; our caller sent "items[i].sku"
        field = (err.field or "skus").replace("skus", "items", 1) + ".sku"
        raise NotFound(err.message, field=field, code=err.code) from err
    return [line | {"price_cents": prices[line["sku"]]} for line in wanted]
