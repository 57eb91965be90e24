"""Who may drive the chaos API, over real HTTP: not another site's web page (cross-site simple
requests, foreign Origins), not a page reached through a rebound DNS name (Host), and only
with JSON bodies. Refused calls change nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from shopsim.faults.guard import TOKEN_HEADER, is_loopback_name, own_origin
from shopsim.settings import Settings
from tests.faults.conftest import served

SPEC = {"type": "latency", "target": "payment", "duration_s": 60, "params": {"ms": 10}}
EVIL = "http://evil.example"


@pytest.fixture
def payment(store):
    """Payment's app over real HTTP: an httpx client on its URL."""
    with served(store.apps["payment"]) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def _faults(http: httpx.Client) -> list:
    response = http.get("/_chaos/faults")
    assert response.status_code == 200, response.text
    return response.json()["faults"]


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_cross_site_simple_requests_are_refused_and_change_nothing(payment):
    resilience = payment.get("/_chaos/resilience").json()
    installed = payment.post("/_chaos/faults", json=SPEC | {"name": "kept"})
    assert installed.status_code == 201, installed.text
    body = json.dumps(SPEC)
    # What a form or fetch(..., {mode: "no-cors"}) on another site sends: no preflight needed.
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        headers = {"Content-Type": kind, "Origin": EVIL}
        error = _error(payment.post("/_chaos/faults", content=body, headers=headers), 403)
        assert error["field"] == "Origin"
        assert _error(payment.post("/_chaos/reset", content="", headers=headers), 403)
        # and the same without an Origin (a browser that leaves it out): the media type
        error = _error(
            payment.post("/_chaos/faults", content=body, headers={"Content-Type": kind}), 415
        )
        assert error["field"] == "Content-Type" and kind in error["message"]
        error = _error(
            payment.post("/_chaos/reset", content="", headers={"Content-Type": kind}), 415
        )
        assert error["code"] == "unsupported_media_type"
    error = _error(payment.post("/_chaos/faults", content=body), 415)  # no type at all
    assert error["field"] == "Content-Type"
    retries = {"dependencies": {}, "admission_max_in_flight": 1}
    put = payment.put("/_chaos/resilience", content=json.dumps(retries))
    assert _error(put, 415)["field"] == "Content-Type"
    assert [f["name"] for f in _faults(payment)] == ["kept"]
    assert payment.get("/_chaos/resilience").json() == resilience


def test_a_foreign_origin_is_refused_even_with_json(payment, store):
    for origin in (EVIL, "null", "https://127.0.0.1:8100", "http://127.0.0.1:9", "http://[::1]"):
        response = payment.post("/_chaos/faults", json=SPEC, headers={"Origin": origin})
        assert _error(response, 403)["field"] == "Origin", origin
        assert _error(payment.get("/_chaos/faults", headers={"Origin": origin}), 403)
    assert _faults(payment) == []
    own = store.settings.url("storefront")  # a page of the store itself may
    response = payment.post("/_chaos/faults", json=SPEC, headers={"Origin": own})
    assert response.status_code == 201, response.text


def test_a_rebound_host_name_is_refused(payment):
    # DNS rebinding: evil.example now resolves to 127.0.0.1, the browser still says its name.
    port = payment.base_url.port
    for host in (f"evil.example:{port}", "localhost.evil.example", "127.0.0.1.nip.io", ""):
        headers = {"Host": host}
        error = _error(payment.get("/_chaos/faults", headers=headers), 403)
        assert error["field"] == "Host", host
        error = _error(payment.post("/_chaos/faults", json=SPEC, headers=headers), 403)
        assert "loopback" in error["message"]
        assert _error(payment.post("/_chaos/reset", json={}, headers=headers), 403)
    assert _faults(payment) == []
    for i, host in enumerate((f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", "[::1]")):
        response = payment.post(
            "/_chaos/faults", json=SPEC | {"name": f"ok{i}"}, headers={"Host": host}
        )
        assert response.status_code == 201, (host, response.text)


def test_with_a_token_the_host_may_be_any_name_but_origins_still_count(store, settings):
    from tests.conftest import Store

    guarded = Store(settings.replace(host="0.0.0.0", chaos_token="s3cret"), store.data)
    try:
        with served(guarded.apps["payment"]) as url, httpx.Client(base_url=url) as http:
            token = {TOKEN_HEADER: "s3cret", "Host": "shop.internal:8104"}
            assert http.post("/_chaos/faults", json=SPEC, headers=token).status_code == 201
            foreign = token | {"Origin": EVIL}
            assert _error(http.post("/_chaos/reset", json={}, headers=foreign), 403)
            assert len(http.get("/_chaos/faults", headers=token).json()["faults"]) == 1
    finally:
        guarded.close()


def test_loopback_names_and_own_origins():
    assert all(map(is_loopback_name, ["localhost", "LocalHost", "127.0.0.1", "127.3.4.5", "[::1]"]))
    assert not any(map(is_loopback_name, ["", "0.0.0.0", "evil.example", "localhost.evil"]))
    settings = Settings(port_base=9000)
    for origin in ("http://127.0.0.1:9000", "http://localhost:9007", "http://[::1]:9105"):
        assert own_origin(origin, settings), origin
    for origin in (
        "null",
        "http://127.0.0.1:9008",  # past the last service
        "http://127.0.0.1:99999",
        "https://127.0.0.1:9000",
        "http://evil.example:9000",
        "http://127.0.0.1:9000/path",
        "garbage",
    ):
        assert not own_origin(origin, settings), origin
