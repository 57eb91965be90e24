"""The metric names and label values the verdict reads, taken from the catalogue."""

from __future__ import annotations

from shopsim.metrics.catalogue import business as b
from shopsim.metrics.catalogue import common as c
from shopsim.metrics.catalogue import load as ld
from shopsim.metrics.catalogue import values as v

# server side, every service
HTTP_REQUESTS = c.HTTP_REQUESTS.name
HTTP_DURATION = c.HTTP_DURATION.name
SERVER_ERRORS = c.HTTP_SERVER_ERRORS.name
IN_FLIGHT = c.IN_FLIGHT.name
REJECTED = c.REJECTED.name
THREADS = c.THREADS.name
THREADS_BUSY = c.THREADS_BUSY.name
PROCESS_CPU = c.PROCESS_CPU.name
PROCESS_RSS = c.PROCESS_RESIDENT_MEMORY.name
# client side of every edge
DEP_REQUESTS = c.DEPENDENCY_REQUESTS.name
DEP_DURATION = c.DEPENDENCY_DURATION.name
DEP_CALL_DURATION = c.DEPENDENCY_CALL_DURATION.name
DEP_RETRIES = c.DEPENDENCY_RETRIES.name
BREAKER_OPEN = c.BREAKER_OPEN.name
DEPENDENCY_OUTCOMES = v.DEPENDENCY_OUTCOMES
NOT_SENT = ("breaker_open", "budget_exhausted")  # refused before any request went out
SENT_OUTCOMES = tuple(o for o in DEPENDENCY_OUTCOMES if o not in NOT_SENT)
# the load generator (the customer's side)
LOAD_REQUESTS = ld.LOAD_REQUESTS.name
LOAD_DURATION = ld.LOAD_DURATION.name
LOAD_CHECKOUTS = ld.LOAD_CHECKOUTS.name
LOAD_ARRIVALS = ld.LOAD_ARRIVALS.name
LOAD_DROPPED = ld.LOAD_DROPPED.name
LOAD_LATE = ld.LOAD_LATE.name
LOAD_TARGET = ld.LOAD_TARGET.name
LOAD_CPU = ld.LOAD_CPU.name
LOAD_CHECKOUTS_IN_FLIGHT = ld.LOAD_CHECKOUTS_IN_FLIGHT.name
LOAD_CUSTOMERS_HURT = ld.LOAD_CUSTOMERS_HURT.name
CHECKOUT_GOOD = ("ok", "sold_out")  # sold out is the business saying no, not the site failing
CHECKOUT_BAD = tuple(r for r in v.CHECKOUT_RESULTS if r not in CHECKOUT_GOOD)
BROWSE_FLOWS = (v.BROWSE, v.CART)
ERROR_PAGES = b.ERROR_PAGES_SHOWN.name

#: Business counters and gauges: key -> (kind, metric, label match).
BUSINESS: dict[str, tuple[str, str, dict[str, str]]] = {
    "orders_confirmed": ("counter", b.CHECKOUT_ORDERS.name, {"outcome": "confirmed"}),
    "orders_failed": ("counter", b.CHECKOUT_ORDERS.name, {"outcome": "failed"}),
    "orders_declined": ("counter", b.CHECKOUT_ORDERS.name, {"outcome": "declined"}),
    "revenue_dollars": ("counter", b.CHECKOUT_REVENUE.name, {}),
    "captures": (
        "counter",
        b.PAYMENT_OPERATIONS_DONE.name,
        {"operation": "capture", "outcome": "approved"},
    ),
    "authorizations_declined": (
        "counter",
        b.PAYMENT_OPERATIONS_DONE.name,
        {"operation": "authorize", "outcome": "declined"},
    ),
    "authorizations": ("counter", b.PAYMENT_OPERATIONS_DONE.name, {"operation": "authorize"}),
    "gift_purchases": ("counter", b.GIFT_PURCHASES.name, {}),
    "gift_alert_mails": ("counter", b.MAIL_SENT.name, {"template": "gift_alert"}),
    "confirmation_mails": ("counter", b.MAIL_SENT.name, {"template": "order_confirmation"}),
    "outbox_depth": ("gauge", b.OUTBOX_DEPTH.name, {}),
    "outbox_oldest_age_s": ("gauge", b.OUTBOX_OLDEST_AGE.name, {}),
    "reservations_insufficient": ("counter", b.RESERVATIONS.name, {"outcome": "insufficient"}),
    "oversold_units": ("gauge", b.UNITS_OVERSOLD.name, {}),
    "orders_charged_twice": ("gauge", b.PAYMENT_REFERENCES_CHARGED_TWICE.name, {}),
}

#: Request names the load generator gave order placement before requests carried a flow.
_FLOW_BY_NAME = {
    "/checkout": v.CHECKOUT,
    "/registries/[id]/gift": v.GIFT,
    "/cart": v.CART,
    "/cart/items": v.CART,
    "/cart/items/[sku]/remove": v.CART,
}


def is_load_source(source: str) -> bool:
    """Sources named load, load-1, ... are the load generator's processes."""
    return source == "load" or source.startswith("load-")


def flow_of(labels: dict[str, str]) -> str:
    """The flow of a load request: its `flow` label, or from its name in older runs."""
    if "flow" in labels:
        return labels["flow"]
    return _FLOW_BY_NAME.get(labels.get("name", ""), v.BROWSE)


def is_order_request(labels: dict[str, str]) -> bool:
    """A request that places an order: a POST in the checkout or gift flow."""
    return labels.get("method", "POST") == "POST" and flow_of(labels) in v.ORDER_FLOWS
