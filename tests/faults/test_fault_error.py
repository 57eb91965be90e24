"""error: the target answers an HTTP error (status, body, Retry-After) without doing the work,
inbound on the target or outbound in its callers' clients."""

from __future__ import annotations

from tests.faults.conftest import LOOPBACK, add_fault, authorizations, binomial_bounds, buy, expire

PRODUCT = "/products/SKU-0001"
REQUESTS = "shopsim_http_requests_total"
INJECTIONS = "shopsim_fault_injections_total"


def _dep(store, outcome: str) -> float:
    labels = {"service": "checkout", "dependency": "payment", "outcome": outcome}
    return store.metric("checkout", "shopsim_dependency_requests_total", labels)


def _served(store, route: str, status: str) -> float:
    labels = {"service": "payment", "route": route, "method": "POST", "status": status}
    return store.metric("payment", REQUESTS, labels)


def _catalog_error(store, probability: float, **params) -> None:
    spec = {
        "name": "failing-catalog",
        "type": "error",
        "target": "catalog",
        "probability": probability,
        "duration_s": 60,
        "params": params,
    }
    add_fault(store, spec)


def _statuses(store, n: int) -> list[int]:
    client = store.client("catalog")
    return [client.get(PRODUCT).status_code for _ in range(n)]


def test_error_probability_zero_never_fails(chaos):
    _catalog_error(chaos, 0.0)
    assert set(_statuses(chaos, 200)) == {200}
    assert chaos.metric("catalog", INJECTIONS, {"fault": "error"}) == 0


def test_error_probability_one_fails_every_request_without_the_work(chaos):
    _catalog_error(chaos, 1.0)
    client = chaos.client("catalog")
    responses = [client.get(PRODUCT) for _ in range(20)]
    assert {r.status_code for r in responses} == {500}
    assert responses[0].get_json() == {"error": {"code": "injected_fault", "message": "fault: 500"}}
    served = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "status": "500"}
    assert chaos.metric("catalog", REQUESTS, served) == 20
    assert chaos.metric("catalog", INJECTIONS, {"fault": "error"}) == 20


def test_error_probability_0_3_fails_a_binomial_share(chaos):
    n = 300
    _catalog_error(chaos, 0.3, status=503)
    failed = _statuses(chaos, n).count(503)
    low, high = binomial_bounds(n, 0.3)
    assert low <= failed <= high
    assert chaos.metric("catalog", INJECTIONS, {"fault": "error"}) == failed


def test_error_status_body_and_retry_after_are_the_configured_ones(chaos):
    body = {"error": {"code": "teapot", "message": "short and stout"}}
    _catalog_error(chaos, 1.0, status=429, body=body, retry_after_s=7)
    response = chaos.client("catalog").get(PRODUCT)
    assert response.status_code == 429
    assert response.get_json() == body
    assert response.headers["Retry-After"] == "7"


def test_error_inbound_on_payment_fails_checkout_after_retries(chaos):
    add_fault(chaos, {"type": "error", "target": "payment", "duration_s": 60})
    response = buy(chaos, "err-inbound")
    assert response.status_code == 503
    assert response.get_json()["error"]["dependency"] == "payment"
    # authorize carries an Idempotency-Key: one attempt and two retries, all 500
    assert _dep(chaos, "server_error") == 3
    assert _dep(chaos, "success") == 0
    retries = {"service": "checkout", "dependency": "payment"}
    assert chaos.metric("checkout", "shopsim_dependency_retries_total", retries) == 2
    assert _served(chaos, "/authorizations", "500") == 3
    assert _served(chaos, "/authorizations", "201") == 0
    assert authorizations(chaos) == 0  # no work was done behind the errors


def test_error_outbound_to_payment_never_reaches_payment(chaos):
    spec = {"type": "error", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"status": 503}})
    response = buy(chaos, "err-outbound")
    assert response.status_code == 503
    assert _dep(chaos, "server_error") == 3
    assert _served(chaos, "/authorizations", "503") == 0
    assert _served(chaos, "/authorizations", "201") == 0
    assert chaos.metric("checkout", INJECTIONS, {"fault": "error"}) == 3
    assert chaos.metric("payment", INJECTIONS, {"fault": "error"}) == 0


def test_error_outbound_4xx_is_a_client_error_and_not_retried(chaos):
    spec = {"type": "error", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"status": 429}})
    response = buy(chaos, "err-429")
    assert response.status_code == 503  # checkout cannot pay, whatever payment's reason
    assert _dep(chaos, "client_error") == 1
    assert _dep(chaos, "server_error") == 0


def test_error_removed_restores_service(chaos):
    _catalog_error(chaos, 1.0)
    assert set(_statuses(chaos, 3)) == {500}
    response = chaos.client("catalog").delete(
        "/_chaos/faults/failing-catalog", environ_base=LOOPBACK
    )
    assert response.status_code == 200
    assert set(_statuses(chaos, 10)) == {200}
    assert buy(chaos, "after-removal").status_code == 201


def test_error_expires_by_itself(chaos):
    fault = add_fault(chaos, {"type": "error", "target": "payment", "duration_s": 60})
    assert buy(chaos, "during").status_code == 503
    expire(chaos, fault["name"])
    assert buy(chaos, "after").status_code == 201
    assert _dep(chaos, "success") == 2
    gauge = {"fault": "error", "target": "payment"}
    assert chaos.metric("payment", "shopsim_fault_active", gauge) == 0
