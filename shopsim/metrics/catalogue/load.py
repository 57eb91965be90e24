"""Metrics of the load generator's processes (loadtests/exporter.py serves them)."""

from __future__ import annotations

from types import MappingProxyType as Frozen

from prometheus_client import Counter, Gauge, Histogram

from shopsim.metrics.catalogue.values import (
    CHECKOUT_RESULTS,
    FLOWS,
    JOURNEY_RESULTS,
    LATENCY_BUCKETS,
    LOAD,
    REQUEST_RESULTS,
)
from shopsim.metrics.definition import Metric

LOAD_REQUESTS = Metric(
    Counter,
    "shopsim_load_requests_total",
    "HTTP requests sent by the load generator, by URL template, flow and result.",
    (LOAD,),
    ("name", "method", "flow", "result"),
    values=Frozen({"flow": FLOWS, "result": REQUEST_RESULTS}),
)
LOAD_DURATION = Metric(
    Histogram,
    "shopsim_load_request_duration_seconds",
    "Request latency seen by the load generator (open model: first request of an "
    "arrival timed from its intended start).",
    (LOAD,),
    ("name", "method", "flow"),
    "seconds",
    LATENCY_BUCKETS,
    values=Frozen({"flow": FLOWS}),
)
LOAD_JOURNEYS = Metric(
    Counter,
    "shopsim_load_journeys_total",
    "Customer journeys finished, by journey and result.",
    (LOAD,),
    ("journey", "result"),
    values=Frozen({"result": JOURNEY_RESULTS}),
)
LOAD_CHECKOUTS = Metric(
    Counter,
    "shopsim_load_checkouts_total",
    "Orders placed from the checkout or gift forms, by result.",
    (LOAD,),
    ("result",),
    values=Frozen({"result": CHECKOUT_RESULTS}),
)
LOAD_ARRIVALS = Metric(
    Counter, "shopsim_load_arrivals_total", "Open-model arrivals whose time came.", (LOAD,)
)
LOAD_LATE = Metric(
    Counter,
    "shopsim_load_arrivals_late_total",
    "Open-model arrivals started more than 50 ms after their intended time.",
    (LOAD,),
)
LOAD_DROPPED = Metric(
    Counter,
    "shopsim_load_arrivals_dropped_total",
    "Open-model arrivals dropped because max_in_flight journeys were running.",
    (LOAD,),
)
LOAD_IN_FLIGHT = Metric(
    Gauge, "shopsim_load_in_flight", "Open-model journeys running now.", (LOAD,)
)
LOAD_CHECKOUTS_IN_FLIGHT = Metric(
    Gauge,
    "shopsim_load_checkouts_in_flight",
    "Orders sent from the checkout or gift forms and not answered yet.",
    (LOAD,),
)
LOAD_CUSTOMERS_HURT = Metric(
    Gauge,
    "shopsim_load_customers_hurt",
    "Distinct customers this load process saw a journey fail for (an error page or a failure), "
    "so far; every failure counts, also one that never reached a service's database.",
    (LOAD,),
)
LOAD_CPU = Metric(
    Gauge,
    "shopsim_load_cpu_percent",
    "CPU used by this load process (100 = one core); above 90 its timings are suspect.",
    (LOAD,),
    unit="percent",
)
LOAD_TARGET = Metric(
    Gauge,
    "shopsim_load_target",
    "The shape's current target: arrivals per second (open) or users (closed).",
    (LOAD,),
    appears="from the master or standalone process only",
)
LOAD_USERS = Metric(
    Gauge,
    "shopsim_load_users",
    "Closed-model users running now.",
    (LOAD,),
    appears="from the master or standalone process only",
)

#: Every metric, in the order METRICS.md lists them.
