"""The chaos API on every service: validation (400 naming the field, nothing applied),
conflicts, removal, reset, expiry, who may call it, reproducible draws, live resilience."""

from __future__ import annotations

import json
import time

import pytest

from shopsim.faults.api import TOKEN_HEADER, chaos_disabled_reason, is_loopback
from shopsim.faults.spec import build_spec
from shopsim.faults.table import FAULT_TYPES
from tests.conftest import Store
from tests.faults.conftest import LOOPBACK, add_fault, buy, expire, wait_for

OUTSIDE = {"REMOTE_ADDR": "10.1.2.3"}
PRODUCT = "/products/SKU-0001"
GOOD = {"type": "latency", "target": "payment", "duration_s": 60, "params": {"ms": 10}}
ONE_WAY = next(n for n, c in FAULT_TYPES.items() if c.directions == ("inbound",))
FOR_ONE = next(n for n, c in FAULT_TYPES.items() if c.targets)


@pytest.fixture
def build(store, settings):
    """More in-process stores over the same seeded files, with some settings changed."""
    made = []

    def make(**changes):
        other = Store(settings.replace(**changes), store.data)
        made.append(other)
        return other

    yield make
    for other in made:
        other.close()


def _everywhere(store, method: str, path: str, **kw) -> dict:
    kw.setdefault("environ_base", LOOPBACK)
    return {name: store.client(name).open(path, method=method, **kw) for name in store.apps}


def _listed(store) -> dict[str, list]:
    found = _everywhere(store, "GET", "/_chaos/faults")
    return {name: r.get_json()["faults"] for name, r in found.items() if r.get_json()["faults"]}


def _gauge(store, service: str, fault: str, target: str) -> float:
    return store.metric(service, "shopsim_fault_active", {"fault": fault, "target": target})


BAD_SPECS = [
    (GOOD | {"type": "meteor"}, "type"),
    ({k: v for k, v in GOOD.items() if k != "type"}, "type"),
    (GOOD | {"type": 7}, "type"),
    (GOOD | {"params": {"ms": "fast"}}, "params.ms"),
    (GOOD | {"params": {"ms": -5}}, "params.ms"),
    (GOOD | {"params": {"msec": 5}}, "params.msec"),
    (GOOD | {"params": [5]}, "params"),
    (GOOD | {"probability": 1.5}, "probability"),
    (GOOD | {"probability": -0.1}, "probability"),
    (GOOD | {"probability": "0.5"}, "probability"),
    (GOOD | {"probability": True}, "probability"),
    ({k: v for k, v in GOOD.items() if k != "duration_s"}, "duration_s"),
    (GOOD | {"duration_s": 0}, "duration_s"),
    (GOOD | {"duration_s": -1}, "duration_s"),
    (GOOD | {"duration_s": 10**9}, "duration_s"),
    (GOOD | {"duration_s": "60"}, "duration_s"),
    ({k: v for k, v in GOOD.items() if k != "duration_s"} | {"duration": "soon"}, "duration"),
    ({k: v for k, v in GOOD.items() if k != "duration_s"} | {"duration": "0s"}, "duration"),
    ({k: v for k, v in GOOD.items() if k != "duration_s"} | {"duration": "2h"}, "duration"),
    ({k: v for k, v in GOOD.items() if k != "duration_s"} | {"duration": True}, "duration"),
    (GOOD | {"target": "warehouse"}, "target"),
    (GOOD | {"target": "Payment"}, "target"),
    ({k: v for k, v in GOOD.items() if k != "target"}, "target"),
    (GOOD | {"direction": "sideways"}, "direction"),
    (GOOD | {"type": ONE_WAY, "params": {}, "direction": "outbound"}, "direction"),
    (GOOD | {"target": "storefront", "direction": "outbound"}, "direction"),  # nobody calls it
    (GOOD | {"type": FOR_ONE, "params": {}, "target": "storefront"}, "target"),
    (GOOD | {"name": "Bad Name!"}, "name"),
    (GOOD | {"name": ""}, "name"),
    (GOOD | {"route": ""}, "route"),
    (GOOD | {"route": "/charges", "direction": "outbound"}, "route"),  # callers have no routes
    (GOOD | {"colour": "red"}, "colour"),
]


def test_bad_spec_is_400_naming_the_field_and_applies_nothing(chaos):
    # one store for every case (building one per case would take most of the file's time)
    for spec, field in BAD_SPECS:
        for name, response in _everywhere(chaos, "POST", "/_chaos/faults", json=spec).items():
            assert response.status_code == 400, (spec, name, response.get_json())
            error = response.get_json()["error"]
            assert error["code"] == "invalid_fault"
            assert error["field"] == field, (spec, error)
    assert _listed(chaos) == {}


def test_body_that_is_not_a_json_object_is_400(chaos):
    for body in ["{not json", "[1, 2]", '"latency"', "null", "17", "", '{"type": "latency",}']:
        response = chaos.client("payment").post(
            "/_chaos/faults", data=body, content_type="application/json", environ_base=LOOPBACK
        )
        assert response.status_code == 400, body
        assert response.get_json()["error"]["field"] == "body", body
    assert _listed(chaos) == {}


def test_spec_sent_without_a_json_content_type_is_415_and_applies_nothing(chaos):
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        response = chaos.client("payment").post(
            "/_chaos/faults",
            data=json.dumps(GOOD),
            content_type=content_type,
            environ_base=LOOPBACK,
        )
        assert response.status_code == 415, content_type
        assert response.get_json()["error"]["field"] == "Content-Type"
    assert _listed(chaos) == {}


def test_spec_that_does_not_apply_here_is_200_not_applied(chaos):
    response = chaos.client("catalog").post("/_chaos/faults", json=GOOD, environ_base=LOOPBACK)
    assert response.status_code == 200
    assert response.get_json()["applied"] is False
    assert _listed(chaos) == {}


def test_unnamed_spec_gets_a_name_derived_from_its_content():
    first = build_spec(GOOD)
    again = build_spec(dict(GOOD))
    other = build_spec(GOOD | {"probability": 0.5})
    assert first.name == again.name  # reproducible: the same RNG stream next time
    assert first.name.startswith("latency-payment-")
    assert other.name != first.name


def test_duplicate_name_is_409_and_keeps_the_first(chaos):
    add_fault(chaos, GOOD | {"name": "slow"})
    response = chaos.client("payment").post(
        "/_chaos/faults", json=GOOD | {"name": "slow", "params": {"ms": 99}}, environ_base=LOOPBACK
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "name"
    (kept,) = _listed(chaos)["payment"]
    assert kept["params"]["ms"] == 10


def test_delete_unknown_fault_is_404(chaos):
    response = chaos.client("payment").delete("/_chaos/faults/nope", environ_base=LOOPBACK)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "name"


def test_delete_removes_one_fault_and_its_gauge(chaos):
    add_fault(chaos, GOOD | {"name": "slow"})
    add_fault(chaos, GOOD | {"name": "failing", "type": "error", "params": {}})
    assert _gauge(chaos, "payment", "latency", "payment") == 1
    response = chaos.client("payment").delete("/_chaos/faults/slow", environ_base=LOOPBACK)
    assert response.status_code == 200
    assert [f["name"] for f in _listed(chaos)["payment"]] == ["failing"]
    assert _gauge(chaos, "payment", "latency", "payment") == 0
    assert _gauge(chaos, "payment", "error", "payment") == 1


def test_reset_removes_every_fault_and_every_gauge(chaos):
    add_fault(chaos, GOOD)
    add_fault(chaos, GOOD | {"type": "error", "params": {}})
    add_fault(chaos, GOOD | {"direction": "outbound"})  # carried out by checkout
    listed = _listed(chaos)
    assert sorted(listed) == ["checkout", "payment"]
    assert _gauge(chaos, "checkout", "latency", "payment") == 1
    removed = {
        n: r.get_json()["removed"]
        for n, r in _everywhere(chaos, "POST", "/_chaos/reset", json={}).items()
    }
    assert removed["payment"] == 2 and removed["checkout"] == 1 and removed["catalog"] == 0
    assert _listed(chaos) == {}
    assert _gauge(chaos, "payment", "latency", "payment") == 0
    assert _gauge(chaos, "payment", "error", "payment") == 0
    assert _gauge(chaos, "checkout", "latency", "payment") == 0


def test_listing_shows_what_is_active_and_for_how_long(chaos):
    add_fault(chaos, GOOD | {"name": "slow", "probability": 1.0})
    chaos.client("payment").get("/charges")
    (fault,) = _listed(chaos)["payment"]
    assert fault["name"] == "slow" and fault["type"] == "latency"
    assert fault["direction"] == "inbound" and fault["route"] == "*"
    assert fault["params"] == {"ms": 10.0, "jitter_ms": 0.0, "distribution": "uniform"}
    assert 30 < fault["expires_in_s"] <= 60  # counting down from 60 (a slow machine may lag)
    assert fault["injections"] == 1


def test_fault_expires_without_any_call(chaos):
    add_fault(chaos, GOOD | {"duration_s": 0.3})
    assert _gauge(chaos, "payment", "latency", "payment") == 1
    time.sleep(0.5)
    assert _listed(chaos) == {}
    assert _gauge(chaos, "payment", "latency", "payment") == 0


def test_fault_expiry_is_swept_in_the_background(build):
    live = build(background=True)  # the sweeper every service runs, every 0.5 s
    add_fault(live, GOOD | {"name": "swept"})
    assert _gauge(live, "payment", "latency", "payment") == 1
    expire(live, "swept")
    # only the gauge is read from now on: no request, no listing
    wait_for(lambda: _gauge(live, "payment", "latency", "payment") == 0, what="the sweep")


def test_operator_paths_are_never_faulted(chaos):
    add_fault(chaos, GOOD | {"type": "outage", "direction": "inbound", "params": {}})
    client = chaos.client("payment")
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/_chaos/faults", environ_base=LOOPBACK).status_code == 200
    assert client.get("/charges").status_code == 444  # while customers are cut off


def test_logic_faults_are_not_drawn_by_the_request_adapters(chaos):
    add_fault(chaos, {"type": "payment_decline", "target": "payment", "duration_s": 60})
    for _ in range(5):
        assert chaos.client("payment").get("/charges").status_code == 200
    injections = {"fault": "payment_decline"}
    assert chaos.metric("payment", "shopsim_fault_injections_total", injections) == 0


def test_types_lists_every_type_with_its_parameters(chaos):
    response = chaos.client("cart").get("/_chaos/types", environ_base=LOOPBACK)
    types = {t["type"]: t for t in response.get_json()["types"]}
    assert set(types) == set(FAULT_TYPES)
    assert set(types["latency"]["params"]["properties"]) == {"ms", "jitter_ms", "distribution"}
    assert types["outage"]["directions"] == ["outbound", "inbound"]


# --- who may call it ----------------------------------------------------------------------------

CALLS = [
    ("GET", "/_chaos/faults", None),
    ("POST", "/_chaos/faults", GOOD),
    ("DELETE", "/_chaos/faults/anything", None),
    ("POST", "/_chaos/reset", {}),
    ("GET", "/_chaos/types", None),
    ("GET", "/_chaos/resilience", None),
    ("PUT", "/_chaos/resilience", {"dependencies": {}}),
]


def test_chaos_api_refuses_callers_off_loopback_without_a_token(chaos):
    client = chaos.client("payment")
    for method, path, body in CALLS:
        response = client.open(path, method=method, json=body, environ_base=OUTSIDE)
        assert response.status_code == 403, (method, path)
        assert "loopback" in response.get_json()["error"]["message"]
    assert _listed(chaos) == {}


def test_chaos_api_answers_loopback_callers(chaos):
    for i, address in enumerate(["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]):
        response = chaos.client("payment").post(
            "/_chaos/faults", json=GOOD | {"name": f"f{i}"}, environ_base={"REMOTE_ADDR": address}
        )
        assert response.status_code == 201, address


def test_with_a_token_every_call_must_carry_it_even_on_loopback(build):
    guarded = build(chaos_token="s3cret")
    client = guarded.client("payment")
    for environ in (OUTSIDE, LOOPBACK):
        missing = client.post("/_chaos/faults", json=GOOD, environ_base=environ)
        assert missing.status_code == 403
        assert missing.get_json()["error"]["field"] == TOKEN_HEADER
        wrong = client.post(
            "/_chaos/faults", json=GOOD, environ_base=environ, headers={TOKEN_HEADER: "s3cre"}
        )
        assert wrong.status_code == 403
    assert _listed_with(guarded, "s3cret") == []
    right = client.post(
        "/_chaos/faults", json=GOOD, environ_base=OUTSIDE, headers={TOKEN_HEADER: "s3cret"}
    )
    assert right.status_code == 201
    assert len(_listed_with(guarded, "s3cret")) == 1


def _listed_with(store, token: str) -> list:
    response = store.client("payment").get(
        "/_chaos/faults", headers={TOKEN_HEADER: token}, environ_base=LOOPBACK
    )
    assert response.status_code == 200
    return response.get_json()["faults"]


def test_service_bound_off_loopback_without_a_token_disables_the_chaos_api(build):
    exposed = build(host="0.0.0.0")
    for method, path, body in CALLS:
        for environ in (LOOPBACK, OUTSIDE):
            response = exposed.client("payment").open(
                path, method=method, json=body, environ_base=environ
            )
            assert response.status_code == 403, (method, path)
            assert "chaos API disabled" in response.get_json()["error"]["message"]


def test_service_bound_off_loopback_with_a_token_accepts_it(build):
    exposed = build(host="0.0.0.0", chaos_token="s3cret")
    response = exposed.client("payment").post(
        "/_chaos/faults", json=GOOD, environ_base=OUTSIDE, headers={TOKEN_HEADER: "s3cret"}
    )
    assert response.status_code == 201


def test_loopback_rules():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.2")
    assert not is_loopback("10.1.2.3") and not is_loopback(None) and not is_loopback("nonsense")
    assert chaos_disabled_reason("localhost", None) is None
    assert chaos_disabled_reason("0.0.0.0", "tok") is None
    assert "disabled" in chaos_disabled_reason("0.0.0.0", None)
    assert "disabled" in chaos_disabled_reason("192.168.1.5", "")


# --- reproducible draws -------------------------------------------------------------------------


def _outcomes(store, n: int = 100) -> list[int]:
    """The statuses of n catalog reads under an unnamed error fault at p=0.5."""
    spec = {"type": "error", "target": "catalog", "probability": 0.5, "duration_s": 60}
    add_fault(store, spec)
    client = store.client("catalog")
    return [client.get(PRODUCT).status_code for _ in range(n)]


def test_same_seed_and_requests_give_the_same_decisions(build):
    first, second = _outcomes(build(seed=1)), _outcomes(build(seed=1))
    assert first == second
    assert 25 < first.count(500) < 75  # and they are draws, not a constant
    assert _outcomes(build(seed=2)) != first


# --- live resilience ----------------------------------------------------------------------------


def _retries(store) -> float:
    labels = {"service": "checkout", "dependency": "payment"}
    return store.metric("checkout", "shopsim_dependency_retries_total", labels)


def _resilience(store, patch=None, **kw):
    client = store.client("checkout")
    if patch is None and not kw:
        return client.get("/_chaos/resilience", environ_base=LOOPBACK)
    return client.put("/_chaos/resilience", json=patch, environ_base=LOOPBACK, **kw)


def test_live_resilience_change_applies_to_the_next_checkout(chaos):
    add_fault(chaos, {"type": "error", "target": "payment", "duration_s": 60})
    assert buy(chaos, "default").status_code == 503
    assert _retries(chaos) == 2  # the default: two retries
    response = _resilience(chaos, {"dependencies": {"payment": {"retries": 0}}})
    assert response.status_code == 200
    assert response.get_json()["dependencies"]["payment"]["retries"] == 0
    assert buy(chaos, "none").status_code == 503
    assert _retries(chaos) == 2  # none this time
    _resilience(chaos, {"dependencies": {"payment": {"retries": 4, "backoff": "none"}}})
    assert buy(chaos, "four").status_code == 503
    assert _retries(chaos) == 6
    assert _resilience(chaos).get_json()["dependencies"]["payment"]["timeout_s"] == 3.0  # kept


def test_live_admission_limit_change(chaos):
    response = _resilience(chaos, {"admission_max_in_flight": 7})
    assert response.status_code == 200
    assert chaos.ctx("checkout").admission.limit == 7


BAD_PATCHES = [
    ({"dependencies": {"payment": {"retries": -1}}}, "dependencies.payment.retries"),
    ({"dependencies": {"payment": {"retries": 11}}}, "dependencies.payment.retries"),
    ({"dependencies": {"payment": {"retries": "2"}}}, "dependencies.payment.retries"),
    ({"dependencies": {"payment": {"timeout_s": 0}}}, "dependencies.payment.timeout_s"),
    ({"dependencies": {"payment": {"backoff": "linear"}}}, "dependencies.payment.backoff"),
    ({"dependencies": {"payment": {"colour": 1}}}, "dependencies.payment.colour"),
    ({"dependencies": {"warehouse": {"retries": 1}}}, "dependencies.warehouse"),
    ({"dependencies": {"payment": {"retries": 1}, "storefront": {}}}, "dependencies.storefront"),
    ({"dependencies": [1]}, "dependencies"),
    ({"admission_max_in_flight": -1}, "admission_max_in_flight"),
    ({"admission_max_in_flight": "many"}, "admission_max_in_flight"),
    ({"retries": 1}, "retries"),
]


def test_bad_resilience_patch_is_400_and_changes_nothing(chaos):
    before = _resilience(chaos).get_json()
    for patch, field in BAD_PATCHES:
        response = _resilience(chaos, patch)
        assert response.status_code == 400, patch
        assert response.get_json()["error"]["field"] == field, (patch, response.get_json())
    for body in ["{oops", "[]", ""]:
        response = chaos.client("checkout").put(
            "/_chaos/resilience", data=body, content_type="application/json", environ_base=LOOPBACK
        )
        assert response.status_code == 400, body
        assert response.get_json()["error"]["field"] == "body"
    assert _resilience(chaos).get_json() == before
