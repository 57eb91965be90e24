"""Business metrics, each exported by the one service that owns the fact it counts."""

from __future__ import annotations

from types import MappingProxyType as Frozen

from prometheus_client import Counter, Gauge, Histogram

from shopsim.metrics.catalogue.values import (
    CACHE_RESULTS,
    CART_OPERATIONS,
    CHECKOUT_OUTCOMES,
    CHECKOUT_STEPS,
    ERROR_PAGES,
    INVENTORY_OUTCOMES,
    LATENCY_BUCKETS,
    PAYMENT_OPERATIONS,
    PAYMENT_OUTCOMES,
)
from shopsim.metrics.definition import Metric

ERROR_PAGES_SHOWN = Metric(
    Counter,
    "shopsim_error_pages_total",
    "Error pages shown to customers for failures on the store's side, by page.",
    ("storefront",),
    ("page",),
    values=Frozen({"page": ERROR_PAGES}),
)
CACHE_LOOKUPS = Metric(
    Counter,
    "shopsim_cache_lookups_total",
    "Cache lookups by cache and result (hit, miss, or bypass while the cache is off).",
    ("catalog",),
    ("cache", "result"),
    values=Frozen({"cache": ("catalog",), "result": CACHE_RESULTS}),
)
CART_CHANGES = Metric(
    Counter,
    "shopsim_cart_operations_total",
    "Cart changes that succeeded, by operation.",
    ("cart",),
    ("operation",),
    values=Frozen({"operation": CART_OPERATIONS}),
)
RESERVATIONS = Metric(
    Counter,
    "shopsim_inventory_reservations_total",
    "Reservation outcomes: held, refused for insufficient stock, committed, released, expired.",
    ("inventory",),
    ("outcome",),
    values=Frozen({"outcome": INVENTORY_OUTCOMES}),
)
UNITS_RESERVED = Metric(
    Gauge,
    "shopsim_inventory_units_reserved",
    "Units held by reservations now, summed over SKUs (read from the stock table on scrape).",
    ("inventory",),
)
UNITS_OVERSOLD = Metric(
    Gauge,
    "shopsim_inventory_units_oversold",
    "Units promised beyond stock, summed over SKUs: reserved minus on hand where it is more "
    "(held or committed); 0 when healthy. Read from the stock table on scrape.",
    ("inventory",),
)
PAYMENT_OPERATIONS_DONE = Metric(
    Counter,
    "shopsim_payment_operations_total",
    "Gateway operations that did the work or were refused on a conflict, by outcome: "
    "approved (2xx), declined (402), conflict (409, idempotency-key conflicts included).",
    ("payment",),
    ("operation", "outcome"),
    values=Frozen({"operation": PAYMENT_OPERATIONS, "outcome": PAYMENT_OUTCOMES}),
)
PAYMENT_REFERENCES_CHARGED_TWICE = Metric(
    Gauge,
    "shopsim_payment_references_charged_twice",
    "Order references with more than one captured charge in the ledger: orders paid twice. "
    "0 when healthy. Read from the ledger on scrape.",
    ("payment",),
)
PAYMENT_REPLAYS = Metric(
    Counter,
    "shopsim_payment_idempotent_replays_total",
    "POSTs answered from the idempotency store instead of doing the work again.",
    ("payment",),
    ("operation",),
    values=Frozen({"operation": PAYMENT_OPERATIONS}),
)
CHECKOUT_STEP_DURATION = Metric(
    Histogram,
    "shopsim_checkout_step_duration_seconds",
    "Time of one checkout saga step, successful or not.",
    ("checkout",),
    ("step",),
    "seconds",
    LATENCY_BUCKETS,
    values=Frozen({"step": CHECKOUT_STEPS}),
)
CHECKOUT_ORDERS = Metric(
    Counter,
    "shopsim_checkout_orders_total",
    "Checkout answers by outcome; confirmed counts each order once, whoever confirms it.",
    ("checkout",),
    ("outcome",),
    values=Frozen({"outcome": CHECKOUT_OUTCOMES}),
)
CHECKOUT_REVENUE = Metric(
    Counter,
    "shopsim_checkout_revenue_dollars_total",
    "Value of confirmed orders.",
    ("checkout",),
    unit="dollars",
)
CHECKOUT_FOLLOWUPS = Metric(
    Gauge,
    "shopsim_checkout_followups_pending",
    "Followups (confirmation mail, registry purchase, cart clearing) not done yet.",
    ("checkout",),
)
GIFT_PURCHASES = Metric(
    Counter,
    "shopsim_gift_purchases_total",
    "Gifts bought from a registry, by registry kind.",
    ("registry",),
    ("kind",),
)
MAIL_SENT = Metric(
    Counter,
    "shopsim_mail_sent_total",
    "Mails written to the mail sink (one per recipient), by template.",
    ("notifications",),
    ("template",),
)
NOTIFICATIONS_ENQUEUED = Metric(
    Counter,
    "shopsim_notifications_enqueued_total",
    "Messages accepted into the outbox (repeats of an event not counted), by template.",
    ("notifications",),
    ("template",),
)
OUTBOX_DEPTH = Metric(
    Gauge,
    "shopsim_outbox_depth",
    "Messages queued in the outbox and not sent yet.",
    ("notifications",),
)
OUTBOX_OLDEST_AGE = Metric(
    Gauge,
    "shopsim_outbox_oldest_message_age_seconds",
    "How long the oldest queued message has waited (0 when the outbox is empty).",
    ("notifications",),
    unit="seconds",
)
