"""The catalogue: every metric shopsim exports, defined once.

Services, the load exporter, the game day and the verdict take names, labels and fixed label
values from here, never from string literals. The definitions live in `common` (every
service), `business` (one service each) and `load` (the load generator), their vocabulary
(fixed label values, buckets, label meanings) in `values`; `SECTIONS` lists them all in the
order ``python -m shopsim.metrics.doc`` writes them to METRICS.md, and the suite checks that
what a running store and load process export is exactly what is written here.

Conventions (``promtool check metrics`` lints them): the ``shopsim_`` prefix, base units in the
name, counters ending ``_total``, route templates (never raw paths) and no customer, order,
cart or registry IDs in labels.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from shopsim.metrics.catalogue import business as b
from shopsim.metrics.catalogue import common as c
from shopsim.metrics.catalogue import load as ld
from shopsim.metrics.definition import Metric

SECTIONS: tuple[tuple[str, tuple[Metric[Any], ...]], ...] = (
    ("RED (every service)", (c.HTTP_REQUESTS, c.HTTP_DURATION, c.HTTP_SERVER_ERRORS)),
    (
        "Dependencies (client side, in the caller's registry)",
        (
            c.DEPENDENCY_REQUESTS,
            c.DEPENDENCY_DURATION,
            c.DEPENDENCY_CALL_DURATION,
            c.DEPENDENCY_RETRIES,
            c.BREAKER_OPEN,
        ),
    ),
    ("Saturation", (c.IN_FLIGHT, c.THREADS_BUSY, c.THREADS, c.REJECTED, c.DB_POOL_WAIT)),
    ("Process resources (prometheus_client's ProcessCollector)", c.PROCESS),
    ("Faults", (c.FAULT_ACTIVE, c.FAULT_INJECTIONS, c.FAULT_MEMORY_HELD)),
    ("Business: storefront", (b.ERROR_PAGES_SHOWN,)),
    ("Business: catalog", (b.CACHE_LOOKUPS,)),
    ("Business: cart", (b.CART_CHANGES,)),
    ("Business: inventory", (b.RESERVATIONS, b.UNITS_RESERVED, b.UNITS_OVERSOLD)),
    (
        "Business: payment",
        (b.PAYMENT_OPERATIONS_DONE, b.PAYMENT_REPLAYS, b.PAYMENT_REFERENCES_CHARGED_TWICE),
    ),
    (
        "Business: checkout",
        (b.CHECKOUT_STEP_DURATION, b.CHECKOUT_ORDERS, b.CHECKOUT_REVENUE, b.CHECKOUT_FOLLOWUPS),
    ),
    ("Business: registry", (b.GIFT_PURCHASES,)),
    (
        "Business: notifications",
        (b.MAIL_SENT, b.NOTIFICATIONS_ENQUEUED, b.OUTBOX_DEPTH, b.OUTBOX_OLDEST_AGE),
    ),
    (
        "Load generator",
        (
            ld.LOAD_REQUESTS,
            ld.LOAD_DURATION,
            ld.LOAD_JOURNEYS,
            ld.LOAD_CHECKOUTS,
            ld.LOAD_ARRIVALS,
            ld.LOAD_LATE,
            ld.LOAD_DROPPED,
            ld.LOAD_IN_FLIGHT,
            ld.LOAD_CHECKOUTS_IN_FLIGHT,
            ld.LOAD_CUSTOMERS_HURT,
            ld.LOAD_CPU,
            ld.LOAD_TARGET,
            ld.LOAD_USERS,
        ),
    ),
)
CATALOGUE: tuple[Metric[Any], ...] = tuple(m for _, metrics in SECTIONS for m in metrics)
BY_NAME = MappingProxyType({m.name: m for m in CATALOGUE})
