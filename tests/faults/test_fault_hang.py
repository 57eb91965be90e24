"""hang: the request is held for `seconds`, then dropped unanswered. Inbound under the test
client (no socket to drop) the response is cut short: Content-Length promised, never delivered.
Outbound the caller sees a timeout when its read timeout is shorter than the hang, else a
connection dropped without an answer."""

from __future__ import annotations

import time

from tests.faults.conftest import LOOPBACK, add_fault, authorizations, binomial_bounds, buy

PRODUCT = "/products/SKU-0001"
INJECTIONS = "shopsim_fault_injections_total"
CHECKOUT_PAYMENT = {"service": "checkout", "dependency": "payment"}


def _dep(store, outcome: str) -> float:
    labels = CHECKOUT_PAYMENT | {"outcome": outcome}
    return store.metric("checkout", "shopsim_dependency_requests_total", labels)


def _cut_short(response) -> bool:
    """A response whose body ended before its Content-Length: the connection dropped."""
    return len(response.get_data()) < int(response.headers["Content-Length"])


def _catalog_hang(store, probability: float, seconds: float, **extra) -> None:
    spec = {
        "name": "hanging-catalog",
        "type": "hang",
        "target": "catalog",
        "probability": probability,
        "duration_s": 60,
        "params": {"seconds": seconds},
    }
    add_fault(store, spec | extra)


def _dropped(store, n: int) -> int:
    client = store.client("catalog")
    return sum(_cut_short(client.get(PRODUCT)) for _ in range(n))


def test_hang_probability_zero_never_holds(chaos):
    _catalog_hang(chaos, 0.0, 0.05)
    started = time.perf_counter()
    assert _dropped(chaos, 200) == 0
    assert time.perf_counter() - started < 200 * 0.05  # not one was held
    assert chaos.metric("catalog", INJECTIONS, {"fault": "hang"}) == 0


def test_hang_probability_one_holds_then_drops_every_request(chaos):
    _catalog_hang(chaos, 1.0, 0.05)
    client = chaos.client("catalog")
    for _ in range(5):
        started = time.perf_counter()
        response = client.get(PRODUCT)
        assert time.perf_counter() - started >= 0.05
        assert _cut_short(response)
        assert response.status_code == 444  # what catalog's own metrics record: no answer
        assert response.headers["Content-Length"] == "4096"
        assert response.get_data() == b'{"partial": '
    assert chaos.metric("catalog", INJECTIONS, {"fault": "hang"}) == 5
    held = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "le": "0.05"}
    assert chaos.metric("catalog", "shopsim_http_request_duration_seconds_bucket", held) == 0


def test_hang_probability_0_3_drops_a_binomial_share(chaos):
    n = 300
    _catalog_hang(chaos, 0.3, 0.001)
    dropped = _dropped(chaos, n)
    low, high = binomial_bounds(n, 0.3)
    assert low <= dropped <= high
    assert chaos.metric("catalog", INJECTIONS, {"fault": "hang"}) == dropped


def test_hang_inbound_on_payment_reaches_checkout_as_dropped_connections(chaos):
    spec = {"type": "hang", "target": "payment", "duration_s": 60, "params": {"seconds": 0.05}}
    add_fault(chaos, spec)
    started = time.perf_counter()
    response = buy(chaos, "hang-inbound")
    assert time.perf_counter() - started >= 3 * 0.05  # three attempts, each held
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "connect_error"
    assert _dep(chaos, "connect_error") == 3
    assert _dep(chaos, "success") == 0
    held = {"service": "payment", "route": "/authorizations", "method": "POST"}
    duration = "shopsim_http_request_duration_seconds"
    assert chaos.metric("payment", f"{duration}_count", held) == 3
    assert chaos.metric("payment", f"{duration}_bucket", held | {"le": "0.05"}) == 0
    dropped = held | {"status": "444"}
    assert chaos.metric("payment", "shopsim_http_requests_total", dropped) == 3
    assert authorizations(chaos) == 0  # held before the handler: nothing was authorized


def test_hang_outbound_longer_than_the_timeout_is_a_timeout(chaos):
    patch = {"dependencies": {"payment": {"timeout_s": 0.05, "retries": 1}}}
    response = chaos.client("checkout").put("/_chaos/resilience", json=patch, environ_base=LOOPBACK)
    assert response.status_code == 200
    spec = {"type": "hang", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"seconds": 5}})
    started = time.perf_counter()
    response = buy(chaos, "hang-timeout")
    assert time.perf_counter() - started < 2  # gave up at the timeout, not after 5 s
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "timeout"
    assert _dep(chaos, "timeout") == 2
    dep_bucket = CHECKOUT_PAYMENT | {"le": "0.05"}
    assert (
        chaos.metric("checkout", "shopsim_dependency_request_duration_seconds_bucket", dep_bucket)
        == 0
    )
    assert authorizations(chaos) == 0  # payment never heard of it


def test_hang_outbound_shorter_than_the_timeout_is_a_dropped_connection(chaos):
    spec = {"type": "hang", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"seconds": 0.05}})
    response = buy(chaos, "hang-drop")
    assert response.status_code == 503
    assert _dep(chaos, "connect_error") == 3
    assert _dep(chaos, "timeout") == 0
    assert chaos.metric("checkout", INJECTIONS, {"fault": "hang"}) == 3
    assert chaos.metric("payment", INJECTIONS, {"fault": "hang"}) == 0


def test_hang_removed_restores_answers(chaos):
    _catalog_hang(chaos, 1.0, 0.01)
    assert _dropped(chaos, 3) == 3
    response = chaos.client("catalog").delete(
        "/_chaos/faults/hanging-catalog", environ_base=LOOPBACK
    )
    assert response.status_code == 200
    assert _dropped(chaos, 20) == 0
    assert chaos.client("catalog").get(PRODUCT).get_json()["sku"] == "SKU-0001"


def test_hang_expires_by_itself(chaos):
    spec = {"type": "hang", "target": "payment", "duration_s": 0.3, "params": {"seconds": 0.01}}
    add_fault(chaos, spec)
    assert buy(chaos, "during").status_code == 503
    time.sleep(0.35)
    assert buy(chaos, "after").status_code == 201
    gauge = {"fault": "hang", "target": "payment"}
    assert chaos.metric("payment", "shopsim_fault_active", gauge) == 0
