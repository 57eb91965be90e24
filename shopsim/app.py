"""The one factory: `create_app(service, settings)` builds any shopsim service.

Every service gets the same cross-cutting parts, attached in one order: JSON errors, a
per-app metrics registry with RED hooks, admission control, dependency clients, ``/healthz``
and ``/metrics``. Then the service's own module (from the explicit table in
`shopsim.services`) adds its tables, routes and background work.
"""

from __future__ import annotations

import functools
import hmac
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
)
from sqlalchemy import text

from shopsim import errors
from shopsim.client import Dependency, DependencyFailed
from shopsim.context import LivePolicies, ServiceContext, ServiceTarget, of
from shopsim.db import Database
from shopsim.faults import api as chaos_api
from shopsim.faults import inbound as fault_hooks
from shopsim.faults.base import Delay
from shopsim.faults.logic import Logic
from shopsim.faults.state import Faults
from shopsim.metrics import ServiceMetrics
from shopsim.metrics.catalogue.values import SERVER_ERROR_CAUSES
from shopsim.resilience import AdmissionControl
from shopsim.services import SERVICES
from shopsim.settings import DEPENDENCIES, Settings

#: Paths that must answer even when the service is saturated: monitoring and control.
OPERATOR_PREFIXES = ("/metrics", "/healthz", chaos_api.PREFIX, "/_status")  # + status writes
#: Set in the WSGI environ of requests that arrive on the operator side port (see serve.py).
OPERATOR_PORT_ENVIRON = "shopsim.operator_port"
DEPENDENCY, OVERLOAD, OWN = SERVER_ERROR_CAUSES


class _InOrderJSON(DefaultJSONProvider):
    """Flask's JSON, keys in the order the code builds them rather than sorted."""

    sort_keys = False


class _Flask(Flask):
    """Flask that notes on `g` the exception an error response is made from, whichever
    handler (the app's or a blueprint's) turns it into the response: the RED hook counts a
    5xx by where it came from. Its JSON keeps keys in the order they were built."""

    json_provider_class = _InOrderJSON

    def handle_user_exception(self, e: Exception) -> Any:
        """Remember `e`, then let Flask find its handler."""
        g.error = e
        return super().handle_user_exception(e)


def cause_of(error: BaseException | None) -> str:
    """Where a 5xx made from `error` came from: `dependency` when a dependency's failure is
    the error or anywhere in its chain (raised from it, or while handling it), else `own`."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DependencyFailed) or getattr(error, "code", "") == (
            DependencyFailed.code
        ):
            return DEPENDENCY
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return OWN


def create_app(
    service: str,
    settings: Settings,
    *,
    transports: Mapping[str, httpx.BaseTransport] | None = None,
) -> Flask:
    """Build the Flask app of `service`. `transports` lets tests route dependencies in-process."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
    spec = SERVICES[service]
    app = _Flask(
        f"shopsim.{service}",
        root_path=str(Path(__file__).parent),
        static_folder="static" if service == "storefront" else None,
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes

    disable_created_metrics()  # *_created series double the scrape size and say nothing here
    registry = CollectorRegistry()
    metrics = ServiceMetrics(service, registry, settings.threads.get(service, 16))
    faults = Faults(service, settings.seed, registry)
    db = Database(
        settings.database_url(service),
        spec.metadata,
        pool_size=settings.threads.get(service, 16),
        observe_wait=metrics.db_pool_wait.observe,
        before_statement=_db_slow(faults) if settings.hooks else None,
    )
    admission = AdmissionControl(settings.max_in_flight(service))
    ctx = ServiceContext(
        service=service,
        settings=settings,
        db=db,
        metrics=metrics,
        admission=admission,
        policies=LivePolicies(service, settings, admission),
        rng=random.Random(f"{settings.seed}:{service}"),
        faults=faults,
    )
    outbox = spec.outbox(db) if spec.outbox else None
    faults.attach(ServiceTarget(service, db, registry, hot_rows=spec.hot_rows, outbox=outbox))
    for dep in DEPENDENCIES[service]:
        ctx.deps[dep] = Dependency(
            service=service,
            name=dep,
            base_url=settings.url(dep),
            policy=functools.partial(ctx.policies.get, dep),
            metrics=metrics,
            transport=(transports or {}).get(dep),
            rng=random.Random(f"{settings.seed}:{service}->{dep}"),
            faults=ctx.faults if settings.hooks else None,
        )
    app.extensions["shopsim"] = ctx

    errors.init_app(app)
    _init_red(app, ctx)
    if settings.hooks:
        fault_hooks.init_app(app, ctx.faults, OPERATOR_PREFIXES)
    chaos_api.init_app(app)
    _init_operator_routes(app, ctx)
    db.create_all()
    spec.init_app(app, ctx)
    ctx.every(0.5, "expiry", ctx.expire)  # faults and timed resilience changes
    metrics.precreate(
        (
            (rule.rule, m)
            for rule in app.url_map.iter_rules()
            for m in rule.methods or ()
            if m not in ("HEAD", "OPTIONS")
        ),
        DEPENDENCIES[service],
    )
    return app


def _db_slow(faults: Faults) -> Callable[[], None]:
    """db_slow's switch point, before every statement: wait its delay when it fires."""

    def before_statement() -> None:
        slow = faults.fires(Logic.DB_SLOW)
        if slow and isinstance(slow.action, Delay) and slow.action.seconds > 0:
            slow.hold(slow.action.seconds)  # the fault's removal lets the statement go at once

    return before_statement


def close_app(app: Flask) -> None:
    """Stop an app's background work and release its connections (tests, shutdown)."""
    of(app).close()


def _init_red(app: Flask, ctx: ServiceContext) -> None:
    """Admission control, in-flight gauges and RED metrics around every request (with
    `settings.hooks` off: admission control alone)."""
    hooks = ctx.settings.hooks

    # Every customer request passes through these three: each proxy lookup (`request`, `g`) is
    # a context-variable read, so each hook takes the objects once.
    @app.before_request
    def _admit() -> None:
        state, req = g._get_current_object(), request._get_current_object()  # type: ignore[attr-defined]
        state.started = time.perf_counter()
        state.admitted = False
        if hooks and not req.environ.get(OPERATOR_PORT_ENVIRON):  # side port: own threads
            ctx.metrics.threads_busy.inc()
            state.busy = True
        if req.path.startswith(OPERATOR_PREFIXES):
            return None
        if not ctx.admission.enter():
            ctx.metrics.rejected.inc()
            state.error_cause = OVERLOAD
            raise errors.Unavailable(
                f"{ctx.service} is at capacity ({ctx.admission.limit} requests in flight)",
                code="overloaded",
                headers={"Retry-After": str(ctx.settings.admission_retry_after_s)},
            )
        state.admitted = True
        if hooks:
            ctx.metrics.in_flight.inc()
        return None

    @app.after_request
    def _observe(response: Response) -> Response:
        if not hooks:
            return response
        state, req = g._get_current_object(), request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule.rule if req.url_rule else "unmatched"
        started = state.get("started", time.perf_counter())
        status = response.status_code
        # the cause is only recorded for a 5xx: walking the error chain for others is wasted
        cause = (
            (state.get("error_cause") or cause_of(state.get("error"))) if status >= 500 else None
        )
        ctx.metrics.observe_request(rule, req.method, status, time.perf_counter() - started, cause)
        return response

    @app.teardown_request
    def _leave(_exc: BaseException | None) -> None:
        state = g._get_current_object()
        if state.pop("busy", False):
            ctx.metrics.threads_busy.dec()
        if state.pop("admitted", False):
            ctx.admission.leave()
            if hooks:
                ctx.metrics.in_flight.dec()


def _for_operators(ctx: ServiceContext) -> bool:
    """True for a request on the operator side port from a caller the chaos API would answer."""
    if not request.environ.get(OPERATOR_PORT_ENVIRON):
        return False
    token = ctx.settings.chaos_token
    if token:
        given = request.headers.get(chaos_api.TOKEN_HEADER, "")
        return hmac.compare_digest(given.encode(), token.encode())
    return chaos_api.is_loopback(request.remote_addr)


def _init_operator_routes(app: Flask, ctx: ServiceContext) -> None:
    @app.get("/healthz")
    def healthz() -> Response | tuple[Response, int]:
        """Liveness and database reachability; operators also learn where the data is."""
        where = {"database_url": ctx.db.public_url} if _for_operators(ctx) else {}
        try:
            with ctx.db.read() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the database is down: say so, don't crash
            body = {"status": "unhealthy", "service": ctx.service, "database": str(exc)[:200]}
            return jsonify(body | where), 503
        return jsonify({"status": "ok", "service": ctx.service, "database": "ok"} | where)

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus exposition of this service's registry."""
        return Response(generate_latest(ctx.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
