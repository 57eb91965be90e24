"""hang: the request is held for `seconds`, then dropped unanswered. Inbound under the test
client (no socket to drop) the response is cut short: Content-Length promised, never delivered.
Outbound the caller sees a timeout when its read timeout is shorter than the hang, else a
connection dropped without an answer."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.faults.conftest import (
    LOOPBACK,
    add_fault,
    authorizations,
    binomial_bounds,
    buy,
    expire,
    served,
    wait_for,
)

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
    _catalog_hang(chaos, 0.0, 300)  # one held request would hold the test five minutes
    assert _dropped(chaos, 200) == 0
    assert chaos.metric("catalog", INJECTIONS, {"fault": "hang"}) == 0


def test_hang_probability_one_holds_then_drops_every_request(chaos):
    _catalog_hang(chaos, 1.0, 0.05)
    client = chaos.client("catalog")
    for _ in range(5):
        response = client.get(PRODUCT)
        assert _cut_short(response)
        assert response.status_code == 444  # what catalog's own metrics record: no answer
        assert response.headers["Content-Length"] == "4096"
        assert response.get_data() == b'{"partial": '
    assert chaos.metric("catalog", INJECTIONS, {"fault": "hang"}) == 5
    held = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "le": "0.05"}
    assert chaos.metric("catalog", "shopsim_http_request_duration_seconds_bucket", held) == 0
    # each was held its 50 ms first, as catalog's own histogram shows


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
    response = buy(chaos, "hang-inbound")
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "connect_error"
    assert _dep(chaos, "connect_error") == 3
    assert _dep(chaos, "success") == 0
    held = {"service": "payment", "route": "/authorizations", "method": "POST"}
    duration = "shopsim_http_request_duration_seconds"
    assert chaos.metric("payment", f"{duration}_count", held) == 3
    assert chaos.metric("payment", f"{duration}_bucket", held | {"le": "0.05"}) == 0  # each held
    dropped = held | {"status": "444"}
    assert chaos.metric("payment", "shopsim_http_requests_total", dropped) == 3
    assert authorizations(chaos) == 0  # held before the handler: nothing was authorized


def test_hang_outbound_longer_than_the_timeout_is_a_timeout(chaos):
    patch = {"dependencies": {"payment": {"timeout_s": 0.05, "retries": 1}}}
    response = chaos.client("checkout").put("/_chaos/resilience", json=patch, environ_base=LOOPBACK)
    assert response.status_code == 200
    spec = {"type": "hang", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"seconds": 300}})
    response = buy(chaos, "hang-timeout")
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "timeout"
    assert _dep(chaos, "timeout") == 2
    bucket = "shopsim_dependency_request_duration_seconds_bucket"
    assert chaos.metric("checkout", bucket, CHECKOUT_PAYMENT | {"le": "0.05"}) == 0  # waited
    assert chaos.metric("checkout", bucket, CHECKOUT_PAYMENT | {"le": "30.0"}) == 2  # not 300 s
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
    spec = {"name": "hanging-payment", "type": "hang", "target": "payment", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"seconds": 0.01}})
    assert buy(chaos, "during").status_code == 503
    expire(chaos, "hanging-payment")
    assert buy(chaos, "after").status_code == 201
    gauge = {"fault": "hang", "target": "payment"}
    assert chaos.metric("payment", "shopsim_fault_active", gauge) == 0


def _held_then_released(store, end) -> list[httpx.Response]:
    """Three product reads held by a 300 s hang over real HTTP, released by `end()`."""
    _catalog_hang(store, 1.0, 300)  # far longer than any test may take
    with served(store.apps["catalog"]) as url:
        answers: list[httpx.Response] = []
        readers = [
            threading.Thread(target=lambda: answers.append(httpx.get(url + PRODUCT, timeout=600)))
            for _ in range(3)
        ]
        for reader in readers:
            reader.start()
        wait_for(lambda: _injections(store) == 3, what="three requests held")
        end(url)
        for reader in readers:
            reader.join(timeout=60)  # not 300 s: the end of the fault lets them go
            assert not reader.is_alive(), "a request is still held after the fault ended"
    return answers


def _injections(store) -> float:
    return store.metric("catalog", INJECTIONS, {"fault": "hang"})


def _remove(url: str) -> None:
    assert httpx.delete(f"{url}/_chaos/faults/hanging-catalog").status_code == 200


def _reset(url: str) -> None:
    assert httpx.post(f"{url}/_chaos/reset", json={}).json()["removed"] == 1


@pytest.mark.parametrize("end", [_remove, _reset], ids=["removal", "reset"])
def test_hang_end_lets_held_requests_go_and_serves_them(chaos, end):
    answers = _held_then_released(chaos, end)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.json()["sku"] == "SKU-0001" for a in answers)  # served after all, not dropped
    dropped = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "status": "444"}
    assert chaos.metric("catalog", "shopsim_http_requests_total", dropped) == 0


def test_hang_expiry_lets_held_requests_go(chaos):
    def expired(_url: str) -> None:
        expire(chaos, "hanging-catalog")
        chaos.ctx("catalog").faults.purge()  # what the service's expiry sweeper does

    answers = _held_then_released(chaos, expired)
    assert [a.status_code for a in answers] == [200, 200, 200]
