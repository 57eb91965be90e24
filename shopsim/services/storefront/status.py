"""The status page: read by everyone, written only by operators.

    GET  /status                               the page customers read (HTML)
    GET  /api/status                           the same as JSON (in the OpenAPI document)

On the operator side port only (the chaos API's guard applies: loopback or the token, never
another site's page, bodies as JSON):

    GET  /_status                              the page as JSON
    POST /_status/incidents                    open an incident with its first update
    POST /_status/incidents/<id>/updates       post an update (resolving one closes it)
    PUT  /_status/components/<name>            set one component's status
    POST /_status/reset                        forget every incident, all operational

The same paths on the customer port answer 403: customers can read the page, never write it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, Response, jsonify, render_template, request
from pydantic import StringConstraints

from shopsim.context import current
from shopsim.errors import NotFound
from shopsim.faults import guard
from shopsim.faults.guard import Forbidden
from shopsim.validation import Model, ShortText, parse_body

from . import statustables as t

PREFIX = "/_status"
#: shopsim.app.OPERATOR_PORT_ENVIRON (the factory imports this module, so it cannot be
#: imported from there); tests/test_status_page.py checks the two agree.
OPERATOR_PORT_ENVIRON = "shopsim.operator_port"
MAX_ID = 2**31 - 1

ComponentName = Literal["browse", "cart", "checkout", "gift_registry", "order_emails"]
ComponentStatus = Literal["operational", "degraded_performance", "partial_outage", "major_outage"]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
Impact = Literal["none", "minor", "major", "critical"]
Message = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class IncidentRequest(Model):
    """Open an incident: what customers read first, and the components it affects."""

    name: ShortText
    message: Message
    status: IncidentStatus = "investigating"
    impact: Impact = "major"
    components: dict[ComponentName, ComponentStatus] = {}


class UpdateRequest(Model):
    """An update to an open incident."""

    status: IncidentStatus
    message: Message
    components: dict[ComponentName, ComponentStatus] = {}


class ComponentRequest(Model):
    """A component's new status."""

    status: ComponentStatus


public = Blueprint("status", __name__)
operator = Blueprint("status_operator", __name__, url_prefix=PREFIX)


@public.get("/status")
def page() -> Response:
    """The status page customers read."""
    data = t.read_page(current().db)
    return Response(render_template("status.html", title="Status", page=data))


@public.get("/api/status")
def api_status() -> Response:
    """The status page as JSON."""
    return jsonify(t.read_page(current().db))


@operator.before_request
def _operators_only() -> None:
    if not request.environ.get(OPERATOR_PORT_ENVIRON):
        raise Forbidden(
            "the status page is written only through the operator side port", field="port"
        )
    guard.check(request, current().settings)


@operator.get("")
def read() -> Response:
    """The page as JSON, for operators."""
    return jsonify(t.read_page(current().db))


@operator.post("/incidents")
def open_incident() -> tuple[Response, int]:
    """Open an incident; 201 with the page's view of it."""
    body = parse_body(request, IncidentRequest)
    db = current().db
    incident_id = t.open_incident(
        db,
        name=body.name,
        status=body.status,
        impact=body.impact,
        message=body.message,
        statuses={str(k): str(v) for k, v in body.components.items()},
    )
    return jsonify(_incident(incident_id)), 201


@operator.post("/incidents/<int:incident_id>/updates")
def update_incident(incident_id: int) -> tuple[Response, int]:
    """Post an update to an open incident; 201 with the incident."""
    if not 1 <= incident_id <= MAX_ID:
        raise NotFound(f"no incident with id {incident_id}", field="incident_id")
    body = parse_body(request, UpdateRequest)
    t.post_update(
        current().db,
        incident_id,
        status=body.status,
        message=body.message,
        statuses={str(k): str(v) for k, v in body.components.items()},
    )
    return jsonify(_incident(incident_id)), 201


@operator.put("/components/<name>")
def put_component(name: str) -> Response:
    """Set one component's status."""
    if name not in t.COMPONENTS:
        known = ", ".join(t.COMPONENTS)
        raise NotFound(f"no component named {name!r} (known: {known})", field="name")
    body = parse_body(request, ComponentRequest)
    t.set_component(current().db, name, body.status)
    found = t.read_page(current().db)["components"]
    return jsonify(next(c for c in found if c["name"] == name))


@operator.post("/reset")
def reset() -> Response:
    """Forget every incident; every component operational."""
    t.clear_page(current().db)
    return jsonify(t.read_page(current().db))


def _incident(incident_id: int) -> dict[str, object]:
    found = t.read_page(current().db, limit=1000)["incidents"]
    return next(i for i in found if i["id"] == incident_id)
