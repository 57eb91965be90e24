"""The metric names and label values the verdict reads, in one place."""

from __future__ import annotations

# server side, every service
HTTP_REQUESTS = "shopsim_http_requests_total"
HTTP_DURATION = "shopsim_http_request_duration_seconds"
SERVER_ERRORS = "shopsim_http_server_errors_total"
IN_FLIGHT = "shopsim_http_requests_in_flight"
REJECTED = "shopsim_http_requests_rejected_total"
THREADS = "shopsim_worker_threads"
THREADS_BUSY = "shopsim_worker_threads_busy"
PROCESS_CPU = "process_cpu_seconds_total"
PROCESS_RSS = "process_resident_memory_bytes"
# client side of every edge
DEP_REQUESTS = "shopsim_dependency_requests_total"
DEP_DURATION = "shopsim_dependency_request_duration_seconds"
DEP_CALL_DURATION = "shopsim_dependency_call_duration_seconds"
DEP_RETRIES = "shopsim_dependency_retries_total"
BREAKER_OPEN = "shopsim_circuit_breaker_open"
DEPENDENCY_OUTCOMES = (
    "success",
    "client_error",
    "server_error",
    "timeout",
    "connect_error",
    "breaker_open",
    "budget_exhausted",
)
SENT_OUTCOMES = ("success", "client_error", "server_error", "timeout", "connect_error")
# the load generator (the customer's side)
LOAD_REQUESTS = "shopsim_load_requests_total"
LOAD_DURATION = "shopsim_load_request_duration_seconds"
LOAD_CHECKOUTS = "shopsim_load_checkouts_total"
LOAD_ARRIVALS = "shopsim_load_arrivals_total"
LOAD_DROPPED = "shopsim_load_arrivals_dropped_total"
LOAD_LATE = "shopsim_load_arrivals_late_total"
LOAD_TARGET = "shopsim_load_target"
LOAD_CPU = "shopsim_load_cpu_percent"
LOAD_CHECKOUTS_IN_FLIGHT = "shopsim_load_checkouts_in_flight"
CHECKOUT_GOOD = ("ok", "sold_out")  # sold out is the business saying no, not the site failing
CHECKOUT_BAD = ("failure", "error_page")
BROWSE_FLOWS = ("browse",)
ERROR_PAGES = "shopsim_error_pages_total"

#: Business counters and gauges: key -> (kind, metric, label match).
BUSINESS: dict[str, tuple[str, str, dict[str, str]]] = {
    "orders_confirmed": ("counter", "shopsim_checkout_orders_total", {"outcome": "confirmed"}),
    "orders_failed": ("counter", "shopsim_checkout_orders_total", {"outcome": "failed"}),
    "orders_declined": ("counter", "shopsim_checkout_orders_total", {"outcome": "declined"}),
    "revenue_dollars": ("counter", "shopsim_checkout_revenue_dollars_total", {}),
    "captures": (
        "counter",
        "shopsim_payment_operations_total",
        {"operation": "capture", "outcome": "approved"},
    ),
    "authorizations_declined": (
        "counter",
        "shopsim_payment_operations_total",
        {"operation": "authorize", "outcome": "declined"},
    ),
    "authorizations": ("counter", "shopsim_payment_operations_total", {"operation": "authorize"}),
    "gift_purchases": ("counter", "shopsim_gift_purchases_total", {}),
    "gift_alert_mails": ("counter", "shopsim_mail_sent_total", {"template": "gift_alert"}),
    "confirmation_mails": (
        "counter",
        "shopsim_mail_sent_total",
        {"template": "order_confirmation"},
    ),
    "outbox_depth": ("gauge", "shopsim_outbox_depth", {}),
    "outbox_oldest_age_s": ("gauge", "shopsim_outbox_oldest_message_age_seconds", {}),
    "reservations_insufficient": (
        "counter",
        "shopsim_inventory_reservations_total",
        {"outcome": "insufficient"},
    ),
    "oversold_units": ("gauge", "shopsim_inventory_oversold_units", {}),
}

#: Request names the load generator gives order placement (until every request has a flow).
_ORDER_NAMES = ("/checkout", "/registries/[id]/gift")
_FLOW_BY_NAME = {
    "/checkout": "checkout",
    "/registries/[id]/gift": "gift",
    "/cart": "cart",
    "/cart/items": "cart",
    "/cart/items/[sku]/remove": "cart",
}


def is_load_source(source: str) -> bool:
    """Sources named load, load-1, ... are the load generator's processes."""
    return source == "load" or source.startswith("load-")


def flow_of(labels: dict[str, str]) -> str:
    """The flow of a load request: its `flow` label, or from its name in older runs."""
    if "flow" in labels:
        return labels["flow"]
    return _FLOW_BY_NAME.get(labels.get("name", ""), "browse")


def is_order_request(labels: dict[str, str]) -> bool:
    """A request that places an order: POST in the checkout or gift flow."""
    if labels.get("method", "POST") != "POST":
        return False
    return flow_of(labels) in ("checkout", "gift") or labels.get("name") in _ORDER_NAMES
