"""Which flow each request of the journeys belongs to: browse, cart, checkout or gift.

The flow labels the load generator's request metrics, so the game day and the verdict tell
checkout traffic from browsing by a label instead of by reading URLs. Browse and cart requests
make browse availability; checkout and gift requests (the checkout page and the orders) make
checkout's. Signing in and an order's confirmation page count as browse: neither places an
order.

`Visit.page` looks every request up here as it sends it, so a new request fails at once until
it has a row; the exporter creates every row's series up front. No Locust import.
"""

from __future__ import annotations

from types import MappingProxyType

from shopsim.metrics.catalogue.values import BROWSE, CART, CHECKOUT, GIFT

#: (method, URL template) -> flow, for every request a journey sends.
REQUEST_FLOWS = MappingProxyType(
    {
        ("GET", "/"): BROWSE,
        ("GET", "/search?q=[q]"): BROWSE,
        ("GET", "/products/[sku]"): BROWSE,
        ("POST", "/login"): BROWSE,
        ("POST", "/cart/items"): CART,
        ("GET", "/cart"): CART,
        ("POST", "/cart/items/[sku]/remove"): CART,
        ("GET", "/checkout"): CHECKOUT,
        ("POST", "/checkout"): CHECKOUT,
        ("GET", "/orders/[id]"): BROWSE,
        ("GET", "/registries"): BROWSE,
        ("GET", "/registries?q=[q]"): BROWSE,
        ("GET", "/registries/[id]"): BROWSE,
        ("POST", "/registries/[id]/gift"): GIFT,
    }
)
#: The key of a request's Locust context that carries its flow to the metrics.
CONTEXT_KEY = "flow"


def flow_of(method: str, name: str) -> str:
    """The flow of a journey's request; KeyError for a request the table does not know."""
    try:
        return REQUEST_FLOWS[(method, name)]
    except KeyError:
        raise KeyError(f"{method} {name} has no flow: add it to loadtests/flows.py") from None
