"""The chaos API, on every service under /_chaos (a path no customer uses).

    GET    /_chaos/faults            faults active in this service
    POST   /_chaos/faults            install a spec (kept only if it applies to this service)
    DELETE /_chaos/faults/<name>     remove one
    POST   /_chaos/reset             remove every fault and put the default resilience back
    GET    /_chaos/types             the fault types and their parameters
    GET    /_chaos/resilience        live dependency policies and the admission limit
    PUT    /_chaos/resilience        change them while the service runs (for a while, or not)

Who may call it is decided in guard.py: loopback callers asking for a loopback Host, or any
caller with the token when one is configured; never another site's web page; bodies as JSON.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from shopsim.context import ServiceContext, current
from shopsim.errors import BadRequest, NotFound, Unprocessable
from shopsim.faults import guard
from shopsim.faults.guard import (  # re-exported: the chaos API's public names
    TOKEN_HEADER,
    Forbidden,
    chaos_disabled_reason,
    is_loopback,
)
from shopsim.faults.policy import ResilienceChange
from shopsim.faults.spec import build_spec
from shopsim.faults.table import FAULT_TYPES
from shopsim.validation import parse_body, read_json_object

__all__ = ["PREFIX", "TOKEN_HEADER", "Forbidden", "chaos_disabled_reason", "is_loopback"]

PREFIX = "/_chaos"

bp = Blueprint("chaos", __name__, url_prefix=PREFIX)


@bp.before_request
def _guard() -> None:
    guard.check(request, current().settings)


@bp.get("/faults")
def list_faults() -> Response:
    """Faults active here."""
    ctx = current()
    now = time.monotonic()
    faults = [f.describe(now) for f in ctx.faults.active()]
    return jsonify({"service": ctx.service, "faults": faults})


@bp.post("/faults")
def add_fault() -> tuple[Response, int]:
    """Install a fault spec; 201 when it applies here, 200 with applied=false otherwise."""
    ctx = current()
    spec = build_spec(read_json_object(request))  # the guard has required JSON
    fault = ctx.faults.add(spec)
    if fault is None:
        return jsonify({"service": ctx.service, "applied": False, "name": spec.name}), 200
    described = fault.describe(time.monotonic())
    return jsonify({"service": ctx.service, "applied": True, "fault": described}), 201


@bp.delete("/faults/<name>")
def remove_fault(name: str) -> Response:
    """Remove one fault by name."""
    ctx = current()
    if not ctx.faults.remove(name):
        raise NotFound(f"no active fault named {name!r}", field="name")
    return jsonify({"service": ctx.service, "removed": name})


@bp.post("/reset")
def reset() -> Response:
    """Remove every fault and undo every resilience change."""
    ctx = current()
    removed = ctx.faults.reset()
    restored = ctx.policies.reset()
    return jsonify({"service": ctx.service, "removed": removed, "resilience_restored": restored})


@bp.get("/types")
def types() -> Response:
    """Every fault type, its directions and its parameter schema."""
    return jsonify(
        {
            "types": [
                {
                    "type": name,
                    "summary": cls.summary,
                    "directions": list(cls.directions),
                    "targets": list(cls.targets),
                    "params": cls.Params.model_json_schema(),
                }
                for name, cls in FAULT_TYPES.items()
            ]
        }
    )


def _resilience(ctx: ServiceContext) -> dict[str, Any]:
    return {
        "service": ctx.service,
        "dependencies": {k: dataclasses.asdict(v) for k, v in ctx.policies.all().items()},
        "admission_max_in_flight": ctx.admission.limit,
        "defaults": ctx.policies.is_default(),
        "expiring": ctx.policies.expiring(),
    }


@bp.get("/resilience")
def get_resilience() -> Response:
    """The live resilience settings."""
    return jsonify(_resilience(current()))


@bp.put("/resilience")
def put_resilience() -> Response:
    """Change dependency policies and the admission limit; all or nothing."""
    ctx = current()
    try:
        change = parse_body(request, ResilienceChange)
        seconds = change.seconds()
    except Unprocessable as err:
        raise BadRequest(err.message, field=err.field, code="invalid_resilience") from None
    known = ctx.policies.all()
    for dep in change.dependencies:
        if dep not in known:
            deps = ", ".join(known) or "none"
            raise BadRequest(
                f"{ctx.service} does not call {dep!r} (its dependencies: {deps})",
                field=f"dependencies.{dep}",
                code="invalid_resilience",
            )
    ctx.policies.change(
        {dep: patch.model_dump(exclude_none=True) for dep, patch in change.dependencies.items()},
        change.admission_max_in_flight,
        seconds,
    )
    return jsonify(_resilience(ctx))


def init_app(app: Flask) -> None:
    """Mount the chaos API."""
    app.register_blueprint(bp)
