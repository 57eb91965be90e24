"""Prometheus metrics of the load process, served on 127.0.0.1 for the orchestrator to sample.

Ports: the master (or a standalone process) serves the plan's ``metrics_port``; worker k
(Locust's worker index, from 0) serves ``metrics_port + 1 + k``. Counters and the in-flight
gauges are per process: sum them over the ports. ``shopsim_load_target`` and ``shopsim_load_users``
describe the whole run and are served by the master/standalone process only.

- ``shopsim_load_requests_total{name,method,result}`` result ok, failure, error_page (the dog)
- ``shopsim_load_request_duration_seconds{name,method}``: open-model arrivals' first request is
  timed from the arrival's intended start (coordinated-omission correction)
- ``shopsim_load_journeys_total{journey,result}`` and ``shopsim_load_checkouts_total{result}``,
  result ok, sold_out, error_page, failure (see journeys.py)
- ``shopsim_load_arrivals_total`` (every arrival whose time came, dropped ones included),
  ``shopsim_load_arrivals_late_total`` (started > 50 ms after its time),
  ``shopsim_load_arrivals_dropped_total`` (max_in_flight reached), ``shopsim_load_in_flight``
- ``shopsim_load_checkouts_in_flight``: orders sent (checkout and gift forms), not answered yet
- ``shopsim_load_target``, ``shopsim_load_users``, ``shopsim_load_cpu_percent`` (this
  process, psutil, every second; above 90 % its latencies are not to be trusted)
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import gevent
import psutil
from locust.env import Environment
from locust.runners import Runner, WorkerRunner
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from shopsim.metrics import LATENCY_BUCKETS  # prometheus_client only: no Flask in here

from .journeys import (
    ARRIVAL_TYPE,
    CHECKOUT_RESULTS,
    JOURNEY_RESULTS,
    JOURNEY_TYPE,
    JOURNEYS,
    REQUEST_NAMES,
)
from .visit import ErrorPage

log = logging.getLogger("shopsim.loadtests")

ATTRIBUTE = "shopsim_load_metrics"
REQUEST_RESULTS = ("ok", "failure", "error_page")


class LoadMetrics:
    """The load process's metrics on their own registry."""

    def __init__(self, registry: CollectorRegistry, *, whole_run: bool) -> None:
        self.registry = registry
        self.requests = Counter(
            "shopsim_load_requests",
            "HTTP requests sent by the load generator, by URL template and result.",
            ["name", "method", "result"],
            registry=registry,
        )
        self.duration = Histogram(
            "shopsim_load_request_duration_seconds",
            "Request latency seen by the load generator (open model: first request of an "
            "arrival timed from its intended start).",
            ["name", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.journeys = Counter(
            "shopsim_load_journeys",
            "Customer journeys finished, by journey and result.",
            ["journey", "result"],
            registry=registry,
        )
        self.checkouts = Counter(
            "shopsim_load_checkouts",
            "Orders placed from the checkout or gift forms, by result.",
            ["result"],
            registry=registry,
        )
        self.arrivals = Counter(
            "shopsim_load_arrivals", "Open-model arrivals whose time came.", registry=registry
        )
        self.late = Counter(
            "shopsim_load_arrivals_late",
            "Open-model arrivals started more than 50 ms after their intended time.",
            registry=registry,
        )
        self.dropped = Counter(
            "shopsim_load_arrivals_dropped",
            "Open-model arrivals dropped because max_in_flight journeys were running.",
            registry=registry,
        )
        self.in_flight = Gauge(
            "shopsim_load_in_flight", "Open-model journeys running now.", registry=registry
        )
        self.checkouts_in_flight = Gauge(
            "shopsim_load_checkouts_in_flight",
            "Orders sent from the checkout or gift forms and not answered yet.",
            registry=registry,
        )
        self.cpu = Gauge(
            "shopsim_load_cpu_percent",
            "CPU used by this load process (100 = one core); above 90 its timings are suspect.",
            registry=registry,
        )
        self.target: Gauge | None = None
        self.users: Gauge | None = None
        if whole_run:
            self.target = Gauge(
                "shopsim_load_target",
                "The shape's current target: arrivals per second (open) or users (closed).",
                registry=registry,
            )
            self.users = Gauge(
                "shopsim_load_users", "Closed-model users running now.", registry=registry
            )
        self._children: dict[tuple[str, str, str], Any] = {}
        for method, name in REQUEST_NAMES:
            for result in REQUEST_RESULTS:
                self._request_child(name, method, result)
            self.duration.labels(name, method)
        for journey in JOURNEYS:
            for result in JOURNEY_RESULTS:
                self.journeys.labels(journey, result)
        for result in CHECKOUT_RESULTS:
            self.checkouts.labels(result)

    def _request_child(self, name: str, method: str, result: str) -> Any:
        key = (name, method, result)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(name, method, result)
        return child

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float | None,
        exception: BaseException | None,
        context: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        """events.request listener: HTTP requests, and the journeys' summary events."""
        context = context or {}
        if request_type == JOURNEY_TYPE:
            self.journeys.labels(name, context.get("result", "failure")).inc()
            for outcome in context.get("checkouts", ()):
                self.checkouts.labels(outcome).inc()
            return
        if request_type == ARRIVAL_TYPE:
            return  # counted by the scheduler itself
        if exception is None:
            result = "ok"
        elif isinstance(exception, ErrorPage):
            result = "error_page"
        else:
            result = "failure"
        self._request_child(name, request_type, result).inc()
        seconds = (response_time or 0.0) / 1000 + float(context.get("schedule_lag_s", 0.0))
        self.duration.labels(name, request_type).observe(seconds)

    def arrival(self, *, late: bool, dropped: bool) -> None:
        """Count one open-model arrival."""
        self.arrivals.inc()
        if late:
            self.late.inc()
        if dropped:
            self.dropped.inc()

    def set_target(self, value: float) -> None:
        """The shape's current target (served by the master/standalone process only)."""
        if self.target is not None:
            self.target.set(value)


def metrics_of(environment: Environment) -> LoadMetrics | None:
    """This process's metrics, or None when no metrics port was configured."""
    found = getattr(environment, ATTRIBUTE, None)
    return found if isinstance(found, LoadMetrics) else None


def port_for(runner: Runner | None, metrics_port: int) -> int:
    """Master/standalone: metrics_port; worker k: metrics_port + 1 + k."""
    if isinstance(runner, WorkerRunner):
        return metrics_port + 1 + max(runner.worker_index, 0)
    return metrics_port


def _sample_cpu(metrics: LoadMetrics) -> None:
    process = psutil.Process()
    process.cpu_percent(None)  # the first reading only sets the baseline
    while True:
        gevent.sleep(1.0)
        metrics.cpu.set(process.cpu_percent(None))


def install(environment: Environment, runner: Runner | None, metrics_port: int | None) -> None:
    """Create the metrics, serve them, hook them to Locust's events (call from events.init)."""
    if metrics_port is None:
        return
    whole_run = not isinstance(runner, WorkerRunner)
    metrics = LoadMetrics(CollectorRegistry(), whole_run=whole_run)
    port = port_for(runner, metrics_port)
    try:
        server, _ = start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    except OSError as err:
        sys.exit(f"shopsim loadtests: cannot serve metrics on 127.0.0.1:{port}: {err}")
    log.info("load metrics on http://127.0.0.1:%d/metrics", port)
    setattr(environment, ATTRIBUTE, metrics)
    environment.events.request.add_listener(metrics.on_request)
    if whole_run and metrics.users is not None and runner is not None:
        metrics.users.set_function(lambda: float(runner.user_count))
    cpu = gevent.spawn(_sample_cpu, metrics)

    def on_test_stop(**_: Any) -> None:
        metrics.set_target(0)

    def on_quitting(**_: Any) -> None:
        cpu.kill(block=False)
        server.shutdown()
        server.server_close()

    environment.events.test_stop.add_listener(on_test_stop)
    environment.events.quitting.add_listener(on_quitting)
