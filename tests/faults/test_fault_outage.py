"""outage: the target is unreachable. Outbound (the default) every caller's connection is
refused; inbound the target drops each request before doing any work (under the test client,
which has no socket, the answer is cut short and the target records status 444)."""

from __future__ import annotations

from shopsim.client import DependencyFailed
from tests.faults.conftest import (
    LOOPBACK,
    add_fault,
    authorizations,
    binomial_bounds,
    buy,
    expire,
)

PRODUCT = "/products/SKU-0001"
INJECTIONS = "shopsim_fault_injections_total"
DURATION = "shopsim_http_request_duration_seconds"


def _dep(store, outcome: str, service: str = "checkout", dependency: str = "payment") -> float:
    labels = {"service": service, "dependency": dependency, "outcome": outcome}
    return store.metric(service, "shopsim_dependency_requests_total", labels)


def _served(store, route: str, status: str) -> float:
    labels = {"service": "payment", "route": route, "method": "POST", "status": status}
    return store.metric("payment", "shopsim_http_requests_total", labels)


def _cut_short(response) -> bool:
    return len(response.get_data()) < int(response.headers["Content-Length"])


def _catalog_outage(store, probability: float, **extra) -> None:
    spec = {
        "name": "catalog-down",
        "type": "outage",
        "target": "catalog",
        "direction": "inbound",
        "probability": probability,
        "duration_s": 60,
    }
    add_fault(store, spec | extra)


def _dropped(store, n: int) -> int:
    client = store.client("catalog")
    return sum(_cut_short(client.get(PRODUCT)) for _ in range(n))


def test_outage_defaults_to_outbound():
    from shopsim.faults.spec import build_spec

    spec = build_spec({"type": "outage", "target": "payment", "duration": "1m"})
    assert spec.direction == "outbound"


def test_outage_probability_zero_never_drops(chaos):
    _catalog_outage(chaos, 0.0)
    assert _dropped(chaos, 200) == 0
    assert chaos.metric("catalog", INJECTIONS, {"fault": "outage"}) == 0


def test_outage_probability_one_drops_every_request_at_once(chaos):
    _catalog_outage(chaos, 1.0)
    client = chaos.client("catalog")
    responses = [client.get(PRODUCT) for _ in range(20)]
    assert all(_cut_short(r) and r.status_code == 444 for r in responses)
    assert chaos.metric("catalog", INJECTIONS, {"fault": "outage"}) == 20
    held = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "le": "2.5"}
    assert chaos.metric("catalog", f"{DURATION}_bucket", held) == 20  # refused, not held


def test_outage_probability_0_3_drops_a_binomial_share(chaos):
    n = 300
    _catalog_outage(chaos, 0.3)
    dropped = _dropped(chaos, n)
    low, high = binomial_bounds(n, 0.3)
    assert low <= dropped <= high
    assert chaos.metric("catalog", INJECTIONS, {"fault": "outage"}) == dropped


def test_outage_outbound_probability_0_3_refuses_a_binomial_share_of_calls(chaos):
    # the same draw on the caller's side: cart's calls to catalog, with retries and the breaker
    # off so that one call is one draw
    patch = {"dependencies": {"catalog": {"retries": 0, "breaker_enabled": False}}}
    response = chaos.client("cart").put("/_chaos/resilience", json=patch, environ_base=LOOPBACK)
    assert response.status_code == 200
    spec = {"name": "catalog-away", "type": "outage", "target": "catalog", "probability": 0.3}
    add_fault(chaos, spec | {"duration_s": 60})
    dependency = chaos.ctx("cart").dep("catalog")
    n = 300
    refused = 0
    for _ in range(n):
        try:
            assert dependency.request("GET", PRODUCT).status_code == 200
        except DependencyFailed as exc:
            assert exc.reason == "connect_error"
            refused += 1
    low, high = binomial_bounds(n, 0.3)
    assert low <= refused <= high
    assert _dep(chaos, "connect_error", "cart", "catalog") == refused
    assert _dep(chaos, "success", "cart", "catalog") == n - refused
    served = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "status": "200"}
    assert chaos.metric("catalog", "shopsim_http_requests_total", served) == n - refused


def test_outage_outbound_refuses_checkout_calls_and_payment_sees_nothing(chaos):
    add_fault(chaos, {"type": "outage", "target": "payment", "duration_s": 60})
    response = buy(chaos, "pay-down")
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "connect_error"
    assert _dep(chaos, "connect_error") == 3
    assert _served(chaos, "/authorizations", "201") == 0
    assert _served(chaos, "/authorizations", "444") == 0  # nothing reached payment at all
    assert authorizations(chaos) == 0
    assert chaos.metric("checkout", INJECTIONS, {"fault": "outage"}) == 3


def test_outage_inbound_on_payment_drops_before_any_work(chaos):
    spec = {"type": "outage", "target": "payment", "direction": "inbound", "duration_s": 60}
    add_fault(chaos, spec)
    response = buy(chaos, "pay-dropping")
    assert response.status_code == 503
    assert _dep(chaos, "connect_error") == 3
    assert _served(chaos, "/authorizations", "444") == 3  # reached payment, dropped there
    assert authorizations(chaos) == 0  # unlike reset, no work was done
    assert chaos.metric("payment", INJECTIONS, {"fault": "outage"}) == 3
    assert chaos.metric("checkout", INJECTIONS, {"fault": "outage"}) == 0


def test_outage_removed_restores_service(chaos):
    add_fault(chaos, {"name": "pay-gone", "type": "outage", "target": "payment", "duration_s": 60})
    assert buy(chaos, "during").status_code == 503
    response = chaos.client("checkout").delete("/_chaos/faults/pay-gone", environ_base=LOOPBACK)
    assert response.status_code == 200
    assert buy(chaos, "after").status_code == 201
    assert _dep(chaos, "success") == 2


def test_outage_expires_by_itself(chaos):
    _catalog_outage(chaos, 1.0)
    assert _dropped(chaos, 2) == 2
    expire(chaos, "catalog-down")
    assert _dropped(chaos, 20) == 0
    gauge = {"fault": "outage", "target": "catalog"}
    assert chaos.metric("catalog", "shopsim_fault_active", gauge) == 0
