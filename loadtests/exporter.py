"""Prometheus metrics of the load process, served on 127.0.0.1 for the orchestrator to sample.

Ports: the master (or a standalone process) serves the plan's ``metrics_port``; worker k
(Locust's worker index, from 0) serves ``metrics_port + 1 + k``. Counters and the in-flight
gauges are per process: sum them over the ports. The shape's target and the user count
describe the whole run and are served by the master/standalone process only.

Every metric is defined in the metric catalogue (``shopsim.metrics.catalogue.load``; listed in
shopsim/metrics/METRICS.md): requests and their latency by URL template, method, flow and
result (an open-model arrival's first request timed from its intended start, correcting
coordinated omission), journeys and orders by result, arrivals (late, dropped), what is in
flight, the distinct customers a failed journey hurt, the target, and this process's CPU
(psutil, every second; above 90 % its latencies are not to be trusted).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import gevent
import psutil
from locust.env import Environment
from locust.runners import Runner, WorkerRunner
from prometheus_client import (
    CollectorRegistry,
    Gauge,
    disable_created_metrics,
    start_http_server,
)

# prometheus_client only: no Flask in here.
from shopsim.metrics import make
from shopsim.metrics.catalogue import load as m
from shopsim.metrics.catalogue.values import BROWSE, JOURNEY_RESULTS, REQUEST_RESULTS

from .flows import CONTEXT_KEY as FLOW_KEY
from .flows import REQUEST_FLOWS
from .journeys import ARRIVAL_TYPE, JOURNEY_TYPE, JOURNEYS
from .visit import ErrorPage

log = logging.getLogger("shopsim.loadtests")

ATTRIBUTE = "shopsim_load_metrics"


class LoadMetrics:
    """The load process's metrics on their own registry (definitions: the metric catalogue)."""

    def __init__(self, registry: CollectorRegistry, *, whole_run: bool) -> None:
        self.registry = registry
        self.requests = make(m.LOAD_REQUESTS, registry)
        self.duration = make(m.LOAD_DURATION, registry)
        self.journeys = make(m.LOAD_JOURNEYS, registry)
        self.checkouts = make(m.LOAD_CHECKOUTS, registry)  # every result at zero
        self.arrivals = make(m.LOAD_ARRIVALS, registry)
        self.late = make(m.LOAD_LATE, registry)
        self.dropped = make(m.LOAD_DROPPED, registry)
        self.in_flight = make(m.LOAD_IN_FLIGHT, registry)
        self.checkouts_in_flight = make(m.LOAD_CHECKOUTS_IN_FLIGHT, registry)
        self.customers_hurt = make(m.LOAD_CUSTOMERS_HURT, registry)
        self._hurt: set[int] = set()  # the customers behind customers_hurt
        self.cpu = make(m.LOAD_CPU, registry)
        self.target: Gauge | None = None
        self.users: Gauge | None = None
        if whole_run:
            self.target = make(m.LOAD_TARGET, registry)
            self.users = make(m.LOAD_USERS, registry)
        self._children: dict[tuple[str, str, str, str], Any] = {}
        for (method, name), flow in REQUEST_FLOWS.items():
            for result in REQUEST_RESULTS:
                self._request_child(name, method, flow, result)
            self.duration.labels(name, method, flow)
        for journey in JOURNEYS:
            for result in JOURNEY_RESULTS:
                self.journeys.labels(journey, result)

    def _request_child(self, name: str, method: str, flow: str, result: str) -> Any:
        key = (name, method, flow, result)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.requests.labels(name, method, flow, result)
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
            if exception is not None and context.get("customer") is not None:
                self._hurt.add(int(context["customer"]))
                self.customers_hurt.set(len(self._hurt))
            return
        if request_type == ARRIVAL_TYPE:
            return  # counted by the scheduler itself
        if exception is None:
            result = "ok"
        elif isinstance(exception, ErrorPage):
            result = "error_page"
        else:
            result = "failure"
        # The journey decided the flow as it sent the request (flows.py); a request sent
        # some other way is not an order: browse.
        flow = context.get(FLOW_KEY, BROWSE)
        self._request_child(name, request_type, flow, result).inc()
        seconds = (response_time or 0.0) / 1000 + float(context.get("schedule_lag_s", 0.0))
        self.duration.labels(name, request_type, flow).observe(seconds)

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
    disable_created_metrics()  # as the services: *_created series say nothing here
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
