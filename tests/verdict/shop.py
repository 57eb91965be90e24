"""Helpers for the audit tests: shop through the in-process store the way customers do, and
look at what the audit found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from shopsim.services.notifications import send_pending
from shopsim.settings import SERVICE_NAMES
from shopsim.verdict.audit import Integrity


def databases(store: Any) -> dict[str, str]:
    """Service -> database URL, as a game day's manifest records them."""
    return {name: store.settings.database_url(name) for name in SERVICE_NAMES}


def found(integrity: Integrity) -> dict[str, int]:
    """The violations and notices that were found (kinds counted above zero)."""
    counts = integrity.violations | integrity.notices
    return {kind: n for kind, n in counts.items() if n}


def order(store: Any, customer_index: int, key: str, **body: Any) -> Any:
    """POST /checkouts for a seeded customer: from the cart unless `items` is given."""
    customer = store.data.customers[customer_index]
    request = {
        "customer_id": customer.id,
        "idempotency_key": key,
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
    }
    return store.client("checkout").post("/checkouts", json=request | body)


def fill_cart(store: Any, customer_index: int, *lines: tuple[str, int]) -> None:
    """Put `lines` (sku, quantity) in a seeded customer's cart."""
    customer = store.data.customers[customer_index]
    for sku, quantity in lines:
        response = store.client("cart").post(
            f"/carts/{customer.id}/items", json={"sku": sku, "quantity": quantity}
        )
        assert response.status_code == 200, response.get_json()


def cart_checkout(store: Any, customer_index: int, key: str, *lines: tuple[str, int]) -> Any:
    """Fill the customer's cart with `lines` and check it out."""
    fill_cart(store, customer_index, *lines)
    return order(store, customer_index, key)


def gift(store: Any, key: str, registry_index: int = 0, buyer_index: int | None = None) -> Any:
    """Buy the first wished item of a seeded registry for its owner, as someone else."""
    registry = store.data.registries[registry_index]
    if buyer_index is None:
        buyer_index = next(
            i for i, c in enumerate(store.data.customers) if c.id != registry.owner_customer_id
        )
    items = [{"sku": registry.items[0][0], "quantity": 1}]
    return order(store, buyer_index, key, items=items, registry_id=registry.id)


def shop_cleanly(store: Any) -> list[str]:
    """A little of everything a store sees, all of which goes well: returns the order ids."""
    placed = [
        cart_checkout(store, 3, "c-1", ("SKU-0002", 2), ("SKU-0010", 1)),
        cart_checkout(store, 4, "c-2", ("DB-0001", 1)),
        order(store, 5, "d-1", items=[{"sku": "SKU-0020", "quantity": 3}]),
        gift(store, "g-1", registry_index=0),
        gift(store, "g-2", registry_index=1),
    ]
    for response in placed:
        assert response.status_code == 201, response.get_json()
    declined = order(
        store, 6, "x-1", items=[{"sku": "SKU-0003", "quantity": 1}], card_token="tok_decline"
    )
    assert declined.status_code == 402
    send_pending(store.ctx("notifications"))
    return [response.get_json()["order_id"] for response in placed]


def file_states(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file in `directory`: (size, mtime in ns)."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def routed(store: Any, service: str, refuse: Any) -> httpx.MockTransport:
    """A transport to `service` that answers with `refuse(request)` when it returns a response
    (or raises), and passes every other request to the real in-process app."""
    real = httpx.WSGITransport(app=store.apps[service])

    def handle(request: httpx.Request) -> httpx.Response:
        answer = refuse(request)
        if answer is not None:
            return answer  # type: ignore[no-any-return]
        response = real.handle_request(request)
        response.read()
        return response

    return httpx.MockTransport(handle)


def connect_error(request: httpx.Request) -> None:
    """Raise as a dependency that is down does."""
    raise httpx.ConnectError("connection refused", request=request)
