"""The customer journeys of the matrix, as plain HTTP calls to the storefront (loopback only).

Each journey is one function of a `Shopper` returning an `Attempt`: did the customer get what
they came for, with what status and how long it took. The order email is not tried here: it is
judged afterwards from the orders placed (`mail_arrived`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from shopsim.settings import Settings

JOURNEYS = ("browse", "search", "add_to_cart", "checkout", "gift", "order_email")
SKU = "SKU-0012"  # an ordinary product: plenty of stock, not a doorbuster
CARD = "tok_visa"


@dataclass(frozen=True)
class Attempt:
    """One try of one journey."""

    journey: str
    ok: bool
    status: str  # the HTTP status, or the error's name / code
    seconds: float
    order_id: str | None = None


class Shopper:
    """Runs journeys against one store, one at a time, as the seeded customers in turn."""

    def __init__(self, settings: Settings, customers: int = 200, timeout_s: float = 10.0) -> None:
        self.settings = settings
        self.base = settings.url("storefront")
        self.http = httpx.Client(timeout=timeout_s)
        self.customers = itertools.cycle(range(1, customers + 1))
        self.keys = itertools.count(1)
        self.registry: tuple[int, str] | None = None

    def close(self) -> None:
        """Close connections."""
        self.http.close()

    def _timed(self, journey: str, steps: Callable[[], tuple[bool, str, str | None]]) -> Attempt:
        started = time.monotonic()
        try:
            ok, status, order_id = steps()
        except httpx.HTTPError as exc:
            ok, status, order_id = False, type(exc).__name__, None
        return Attempt(journey, ok, status, time.monotonic() - started, order_id)

    def _status(self, response: httpx.Response) -> str:
        if response.status_code < 400:
            return str(response.status_code)
        try:
            return f"{response.status_code} {response.json()['error']['code']}"
        except (ValueError, KeyError, TypeError):
            return str(response.status_code)

    def browse(self) -> Attempt:
        """The home page, then a product page."""

        def steps() -> tuple[bool, str, str | None]:
            home = self.http.get(f"{self.base}/")
            if home.status_code != 200:
                return False, self._status(home), None
            page = self.http.get(f"{self.base}/products/{SKU}")
            return page.status_code == 200, self._status(page), None

        return self._timed("browse", steps)

    def search(self) -> Attempt:
        """A catalog search that finds something."""

        def steps() -> tuple[bool, str, str | None]:
            found = self.http.get(f"{self.base}/api/products", params={"q": "a", "limit": 5})
            ok = found.status_code == 200 and bool(found.json()["products"])
            return ok, self._status(found), None

        return self._timed("search", steps)

    def add_to_cart(self) -> Attempt:
        """A new customer puts one item in their cart."""
        customer = next(self.customers)
        return self._timed("add_to_cart", lambda: self._add(customer))

    def _add(self, customer: int) -> tuple[bool, str, str | None]:
        url = f"{self.base}/api/customers/{customer}/cart/items"
        added = self.http.post(url, json={"sku": SKU, "quantity": 1})
        return added.status_code == 200, self._status(added), None

    def checkout(self) -> Attempt:
        """A new customer fills a cart and buys it; ok when the order is confirmed."""
        customer = next(self.customers)

        def steps() -> tuple[bool, str, str | None]:
            ok, status, _ = self._add(customer)
            if not ok:
                return False, f"cart: {status}", None
            body = {"idempotency_key": f"matrix-{next(self.keys)}", "card_token": CARD}
            bought = self.http.post(f"{self.base}/api/customers/{customer}/checkout", json=body)
            return self._placed(bought)

        return self._timed("checkout", steps)

    def gift(self) -> Attempt:
        """A customer buys a wished item from someone's registry."""
        customer = next(self.customers)

        def steps() -> tuple[bool, str, str | None]:
            if self.registry is None:
                listed = self.http.get(f"{self.base}/api/registries")
                if listed.status_code != 200:
                    return False, f"registries: {self._status(listed)}", None
                first = listed.json()["registries"][0]["id"]
                found = self.http.get(f"{self.base}/api/registries/{first}")
                if found.status_code != 200:
                    return False, f"registry: {self._status(found)}", None
                self.registry = (first, found.json()["items"][0]["sku"])
            registry, sku = self.registry
            body: dict[str, Any] = {"customer_id": customer, "sku": sku, "quantity": 1}
            body |= {"idempotency_key": f"matrix-gift-{next(self.keys)}", "card_token": CARD}
            bought = self.http.post(f"{self.base}/api/registries/{registry}/gifts", json=body)
            return self._placed(bought)

        return self._timed("gift", steps)

    def _placed(self, response: httpx.Response) -> tuple[bool, str, str | None]:
        if response.status_code != 201:
            return False, self._status(response), None
        order = response.json()
        return order.get("status") == "confirmed", f"201 {order.get('status')}", order["order_id"]

    def mail_arrived(self, order_id: str) -> bool:
        """Whether the order's confirmation is in the mail sink (False when it cannot be asked)."""
        url = f"{self.settings.url('notifications')}/mail"
        try:
            found = self.http.get(url, params={"event_id": f"order-confirmation:{order_id}"})
        except httpx.HTTPError:
            return False
        return found.status_code == 200 and bool(found.json()["mail"])

    def round(self) -> list[Attempt]:
        """One try of every journey but the email."""
        return [self.browse(), self.search(), self.add_to_cart(), self.checkout(), self.gift()]
