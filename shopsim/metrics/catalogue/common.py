"""Metrics every service exports: RED, dependency calls, saturation, process resources, faults."""

from __future__ import annotations

from types import MappingProxyType as Frozen

from prometheus_client import Counter, Gauge, Histogram

from shopsim.metrics.catalogue.values import (
    DB_WAIT_BUCKETS,
    DEPENDENCY_OUTCOMES,
    LATENCY_BUCKETS,
    SERVER_ERROR_CAUSES,
    SERVICES,
)
from shopsim.metrics.definition import Metric

HTTP_REQUESTS = Metric(
    Counter,
    "shopsim_http_requests_total",
    "HTTP requests served, by route template and status code.",
    SERVICES,
    ("service", "route", "method", "status"),
)
HTTP_DURATION = Metric(
    Histogram,
    "shopsim_http_request_duration_seconds",
    "Time to serve an HTTP request, by route template.",
    SERVICES,
    ("service", "route", "method"),
    "seconds",
    LATENCY_BUCKETS,
)
HTTP_SERVER_ERRORS = Metric(
    Counter,
    "shopsim_http_server_errors_total",
    "5xx answers by where they came from: a failed dependency, admission control (overload), "
    "or the service itself.",
    SERVICES,
    ("service", "route", "cause"),
    values=Frozen({"cause": SERVER_ERROR_CAUSES}),
)
IN_FLIGHT = Metric(
    Gauge,
    "shopsim_http_requests_in_flight",
    "Requests being served right now.",
    SERVICES,
    ("service",),
)
REJECTED = Metric(
    Counter,
    "shopsim_http_requests_rejected_total",
    "Requests refused by admission control with 503 before any work.",
    SERVICES,
    ("service",),
)
THREADS_BUSY = Metric(
    Gauge,
    "shopsim_worker_threads_busy",
    "Worker threads busy serving a request.",
    SERVICES,
    ("service",),
)
THREADS = Metric(
    Gauge,
    "shopsim_worker_threads",
    "Worker threads configured: the service's capacity.",
    SERVICES,
    ("service",),
)
DB_POOL_WAIT = Metric(
    Histogram,
    "shopsim_db_pool_wait_seconds",
    "Time spent waiting for a database connection from the pool.",
    SERVICES,
    ("service",),
    "seconds",
    DB_WAIT_BUCKETS,
)
DEPENDENCY_REQUESTS = Metric(
    Counter,
    "shopsim_dependency_requests_total",
    "Outbound calls to a dependency, by outcome (one per attempt).",
    SERVICES,
    ("service", "dependency", "outcome"),
    values=Frozen({"outcome": DEPENDENCY_OUTCOMES}),
)
DEPENDENCY_DURATION = Metric(
    Histogram,
    "shopsim_dependency_request_duration_seconds",
    "Time of one outbound attempt to a dependency.",
    SERVICES,
    ("service", "dependency"),
    "seconds",
    LATENCY_BUCKETS,
)
DEPENDENCY_CALL_DURATION = Metric(
    Histogram,
    "shopsim_dependency_call_duration_seconds",
    "Time of one whole call to a dependency: every attempt, backoff sleep and refusal by the "
    "breaker or the retry budget. Server time minus this is a service's own time.",
    SERVICES,
    ("service", "dependency"),
    "seconds",
    LATENCY_BUCKETS,
)
DEPENDENCY_RETRIES = Metric(
    Counter,
    "shopsim_dependency_retries_total",
    "Retried outbound attempts to a dependency.",
    SERVICES,
    ("service", "dependency"),
)
BREAKER_OPEN = Metric(
    Gauge,
    "shopsim_circuit_breaker_open",
    "1 while the circuit breaker to a dependency is open (or half-open), else 0.",
    SERVICES,
    ("service", "dependency"),
)
FAULT_ACTIVE = Metric(
    Gauge,
    "shopsim_fault_active",
    "1 while a fault of this type aimed at this target is active in this service.",
    SERVICES,
    ("fault", "target"),
)
FAULT_INJECTIONS = Metric(
    Counter,
    "shopsim_fault_injections_total",
    "Requests a fault fired on (or rounds of an ambient fault), by fault type.",
    SERVICES,
    ("fault",),
)
FAULT_MEMORY_HELD = Metric(
    Gauge,
    "shopsim_fault_memory_held_bytes",
    "Bytes held by memory_leak faults in this process.",
    SERVICES,
    unit="bytes",
    appears="once a memory_leak fault has run in the service",
)


# prometheus_client's ProcessCollector, registered on every app's registry, reads these from
# /proc: names and help are that collector's, declared here so the catalogue is complete.
_COLLECTOR = "ProcessCollector"
PROCESS_CPU = Metric(
    Counter,
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    SERVICES,
    unit="seconds",
    collector=_COLLECTOR,
)
PROCESS_RESIDENT_MEMORY = Metric(
    Gauge,
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    SERVICES,
    unit="bytes",
    collector=_COLLECTOR,
)
PROCESS_VIRTUAL_MEMORY = Metric(
    Gauge,
    "process_virtual_memory_bytes",
    "Virtual memory size in bytes.",
    SERVICES,
    unit="bytes",
    collector=_COLLECTOR,
)
PROCESS_START_TIME = Metric(
    Gauge,
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    SERVICES,
    unit="seconds",
    collector=_COLLECTOR,
)
PROCESS_OPEN_FDS = Metric(
    Gauge,
    "process_open_fds",
    "Number of open file descriptors.",
    SERVICES,
    collector=_COLLECTOR,
)
PROCESS_MAX_FDS = Metric(
    Gauge,
    "process_max_fds",
    "Maximum number of open file descriptors.",
    SERVICES,
    collector=_COLLECTOR,
)
PROCESS = (
    PROCESS_CPU,
    PROCESS_RESIDENT_MEMORY,
    PROCESS_VIRTUAL_MEMORY,
    PROCESS_START_TIME,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
)
