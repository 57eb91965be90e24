"""The status page: anyone reads it (HTML and /api/status), only operators write it, on the
operator side port; bad input is a 4xx naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from flask import render_template

from shopsim.app import OPERATOR_PORT_ENVIRON
from shopsim.services.storefront import status

OPERATOR = {OPERATOR_PORT_ENVIRON: True, "REMOTE_ADDR": "127.0.0.1"}


class StatusDesk:
    """An operator at the side port, and a customer at the shop's door."""

    def __init__(self, store: Any) -> None:
        self.client = store.client("storefront")

    def write(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.open(
            "/_status" + path, method=method, json=body, environ_overrides=OPERATOR, **kw
        )

    def page(self) -> dict[str, Any]:
        response = self.client.get("/api/status")
        assert response.status_code == 200
        return response.get_json()


@pytest.fixture
def desk(store) -> StatusDesk:
    return StatusDesk(store)


def _component(page: dict[str, Any], name: str) -> str:
    return next(c["status"] for c in page["components"] if c["name"] == name)


def test_a_fresh_store_reads_all_systems_operational(desk):
    page = desk.page()
    assert page["status"] == {"indicator": "operational", "description": "All systems operational"}
    names = [c["name"] for c in page["components"]]
    assert names == ["browse", "cart", "checkout", "gift_registry", "order_emails"]
    assert page["incidents"] == []
    html = desk.client.get("/status")
    assert html.status_code == 200 and b"All systems operational" in html.data


def test_an_incident_goes_from_investigating_to_resolved(desk):
    opened = desk.write(
        "POST",
        "/incidents",
        {
            "name": "Checkout failing",
            "message": "Some customers cannot complete checkout. We are investigating.",
            "components": {"checkout": "major_outage", "gift_registry": "partial_outage"},
        },
    )
    assert opened.status_code == 201, opened.get_json()
    incident = opened.get_json()
    assert incident["status"] == "investigating" and incident["impact"] == "major"
    page = desk.page()
    assert page["status"]["indicator"] == "major_outage"
    assert _component(page, "checkout") == "major_outage"
    assert _component(page, "browse") == "operational"
    path = f"/incidents/{incident['id']}/updates"
    for step in ("identified", "monitoring"):
        assert desk.write("POST", path, {"status": step, "message": step}).status_code == 201
    done = desk.write("POST", path, {"status": "resolved", "message": "No data was lost."})
    assert done.status_code == 201
    resolved = done.get_json()
    assert [u["status"] for u in resolved["updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert resolved["resolved_at"] is not None
    page = desk.page()
    assert page["status"]["indicator"] == "operational"  # resolving restores its components
    again = desk.write("POST", path, {"status": "identified", "message": "again"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "incident_resolved"
    html = desk.client.get("/status").data.decode()
    assert "Checkout failing" in html and "No data was lost." in html


def test_a_component_can_be_set_alone(desk):
    response = desk.write("PUT", "/components/order_emails", {"status": "degraded_performance"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded_performance"
    assert desk.page()["status"]["description"] == "Degraded performance"
    assert desk.write("POST", "/reset", {}).status_code == 200
    assert desk.page()["status"]["indicator"] == "operational"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/incidents", {"message": "x"}, 422, "name"),
        ("POST", "/incidents", {"name": "x", "message": ""}, 422, "message"),
        ("POST", "/incidents", {"name": "x", "message": "m", "status": "panicking"}, 422, "status"),
        ("POST", "/incidents", {"name": "x", "message": "m", "impact": 3}, 422, "impact"),
        (
            "POST",
            "/incidents",
            {"name": "x", "message": "m", "components": {"search": "major_outage"}},
            422,
            "components.search",
        ),
        (
            "POST",
            "/incidents",
            {"name": "x", "message": "m", "components": {"cart": "on_fire"}},
            422,
            "components.cart",
        ),
        ("POST", "/incidents/99/updates", {"status": "identified", "message": "m"}, 404, None),
        ("POST", "/incidents/1/updates", {"status": "identified"}, 422, "message"),
        ("PUT", "/components/search", {"status": "operational"}, 404, "name"),
        ("PUT", "/components/cart", {"status": "fine"}, 422, "status"),
    ],
)
def test_bad_input_is_refused_naming_the_field(desk, method, path, body, status, field):
    response = desk.write(method, path, body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    if field is not None:
        assert error["field"].startswith(field), error
    assert desk.page()["incidents"] == []


def test_customers_cannot_write_the_status_page(desk):
    body = {"name": "Free stuff", "message": "Everything is free today"}
    # the customer port: same path, no operator mark
    refused = desk.client.post("/_status/incidents", json=body)
    assert refused.status_code == 403 and refused.get_json()["error"]["field"] == "port"
    # the operator port, but from another machine and without the token
    remote = dict(OPERATOR, REMOTE_ADDR="192.0.2.7")
    far = desk.client.post("/_status/incidents", json=body, environ_overrides=remote)
    assert far.status_code == 403
    # the operator port, but a form post (what another site's page could send)
    form = desk.client.post("/_status/incidents", data={"name": "x"}, environ_overrides=OPERATOR)
    assert form.status_code == 415
    assert desk.client.put("/api/status", json=body).status_code == 405
    assert desk.page()["incidents"] == []


def test_the_status_page_knows_the_operator_port_mark():
    assert status.OPERATOR_PORT_ENVIRON == OPERATOR_PORT_ENVIRON


def test_the_dog_page_links_to_the_status_page(store):
    with store.apps["storefront"].test_request_context("/cart"):
        html = render_template("dog.html", incident="INC-1")
    assert 'href="/status"' in html
