"""Fixed label values, histogram buckets and what each label means: the catalogue's vocabulary.

A label whose values are a fixed set is declared here once; the services count with these
tuples, and the catalogue's definitions list them so METRICS.md and the suite know them too.
"""

from __future__ import annotations

from types import MappingProxyType as Frozen

from shopsim.settings import SERVICE_NAMES

#: Seconds. 0.25 (browse), 1.0 and 2.5 (checkout) are SLO thresholds: the share of requests
#: under a threshold is exact, not interpolated.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DB_WAIT_BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)

LOAD = "load"  # the load generator's processes
SERVICES = SERVICE_NAMES

# --- fixed label values ----------------------------------------------------------------------

DEPENDENCY_OUTCOMES = (
    "success",  # 2xx
    "client_error",  # 4xx: the dependency refused the request on its merits
    "server_error",  # 5xx
    "timeout",
    "connect_error",
    "breaker_open",  # not sent: the circuit breaker is open
    "budget_exhausted",  # a retry was wanted but the retry budget said no
)
#: Where a 5xx answer came from.
SERVER_ERROR_CAUSES = (
    "dependency",  # a dependency failed (DependencyFailed, or its failure passed up)
    "overload",  # admission control's 503: the service was at capacity
    "own",  # anything else: an inbound error fault, a throttle, a bug
)
#: The statuses whose request series exist from the start.
PRECREATED_STATUSES = ("200", "500", "503")

#: Which part of the shop a load-generator request belongs to: browse and cart requests make
#: browse availability, checkout and gift requests (pages and orders) make checkout's.
BROWSE, CART, CHECKOUT, GIFT = FLOWS = ("browse", "cart", "checkout", "gift")
ORDER_FLOWS = (CHECKOUT, GIFT)
REQUEST_RESULTS = ("ok", "failure", "error_page")
JOURNEY_RESULTS = ("ok", "sold_out", "error_page", "failure")
CHECKOUT_RESULTS = ("ok", "sold_out", "error_page", "failure")

CACHE_RESULTS = ("hit", "miss", "bypass")
CART_OPERATIONS = ("add", "set", "remove", "clear", "purchase")
INVENTORY_OUTCOMES = ("held", "insufficient", "committed", "released", "expired")
PAYMENT_OPERATIONS = ("authorize", "capture", "void")
PAYMENT_OUTCOMES = ("approved", "declined", "conflict")
CHECKOUT_STEPS = (
    "cart",
    "price",
    "reserve",
    "authorize",
    "create_order",
    "capture",
    "commit",
    "confirm",
)
CHECKOUT_OUTCOMES = ("confirmed", "declined", "out_of_stock", "cart_empty", "failed")
ERROR_PAGES = (
    "home",
    "search",
    "product",
    "cart",
    "checkout",
    "order",
    "registry",
    "gift",
    "login",
)

#: What each label means; the values of fixed sets are listed with each metric.
LABELS = Frozen(
    {
        "service": "the service that exports the series",
        "route": "the Flask route template (`/carts/<int:customer_id>`), `unmatched` for 404s",
        "method": "the HTTP method",
        "status": "the HTTP status answered (444: the connection was dropped unanswered)",
        "cause": "where a 5xx came from",
        "dependency": "the service called (an edge of `shopsim.settings.DEPENDENCIES`)",
        "outcome": "how it ended",
        "fault": "a fault type (`shopsim/faults/FAULTS.md`)",
        "target": "the service a fault aims at",
        "cache": "which cache",
        "result": "how it ended",
        "operation": "the operation",
        "step": "the checkout saga's step",
        "kind": "the registry kind (`shopsim.seeddata.REGISTRY_KINDS`)",
        "template": "the mail template (`notifications.sender.TEMPLATES`)",
        "page": "the storefront page",
        "name": "the request's URL template as the load generator groups it (`/products/[sku]`)",
        "flow": "the part of the shop the request belongs to",
        "journey": "the customer journey (browser, shopper, gift_buyer)",
    }
)
