"""throttle: at most `concurrency` requests at a time pass; the rest wait up to `wait_s`, then
get 503 "throttled" (inbound) or a pool timeout in the caller's client (outbound)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from shopsim.client import DependencyFailed
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, buy, expire, wait_for

PRODUCT = "/products/SKU-0001"
INJECTIONS = "shopsim_fault_injections_total"


def _dep(store, outcome: str) -> float:
    labels = {"service": "checkout", "dependency": "payment", "outcome": outcome}
    return store.metric("checkout", "shopsim_dependency_requests_total", labels)


def _throttle(store, target: str, probability: float = 1.0, **extra) -> None:
    spec = {
        "name": f"throttled-{target}",
        "type": "throttle",
        "target": target,
        "probability": probability,
        "duration_s": 60,
        "params": {"concurrency": 1, "wait_s": 0},
    }
    add_fault(store, spec | extra)


@contextmanager
def _full(store, service: str, name: str):
    """Take every slot of the throttle `name` in `service`, as long-running requests would."""
    (fault,) = [f for f in store.ctx(service).faults.active() if f.spec.name == name]
    gate, slots = fault.kind.gate, fault.kind.params.concurrency
    for _ in range(slots):
        assert gate.acquire(timeout=1)
    try:
        yield
    finally:
        for _ in range(slots):
            gate.release()


def _held_until(n: int, work, until, release):
    """Run `work` n times at once; those that got a slot are held (by a latency fault added
    after the throttle, so inside the slot) until `until()` is true, then `release()`d."""
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(work) for _ in range(n)]
        wait_for(until, what="the requests over the cap refused or waiting")
        release()
        return [future.result(timeout=60) for future in futures]


def _slow(store, service: str, **extra) -> None:
    """A latency fault that holds each request two minutes, unless removed first."""
    slow = {"name": "slow", "type": "latency", "target": service, "duration_s": 60}
    add_fault(store, slow | {"params": {"ms": 120_000}} | extra)


def _remove(store, service: str, name: str) -> None:
    response = store.client(service).delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def _served(store, status: str) -> float:
    labels = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "status": status}
    return store.metric("catalog", "shopsim_http_requests_total", labels)


def test_throttle_inbound_caps_concurrent_requests(chaos):
    _throttle(chaos, "catalog", params={"concurrency": 2, "wait_s": 0.05})
    _slow(chaos, "catalog")
    responses = _held_until(
        6,
        lambda: chaos.client("catalog").get(PRODUCT),
        until=lambda: _served(chaos, "503") == 4,
        release=lambda: _remove(chaos, "catalog", "slow"),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 503, 503, 503, 503]
    refused = [r for r in responses if r.status_code == 503]
    assert all(r.get_json()["error"]["code"] == "throttled" for r in refused)
    assert all(r.headers["Retry-After"] == "1" for r in refused)
    # the slots were given back: the next requests pass one by one
    assert [chaos.client("catalog").get(PRODUCT).status_code for _ in range(2)] == [200] * 2


def test_throttle_waiting_request_gets_a_slot_freed_within_wait_s(chaos):
    _throttle(chaos, "catalog", params={"concurrency": 1, "wait_s": 60})
    _slow(chaos, "catalog")
    in_flight = chaos.ctx("catalog").admission

    def two_waiting() -> bool:  # three admitted, one past the throttle (held), two at its gate
        delayed = chaos.metric("catalog", INJECTIONS, {"fault": "latency"})
        return in_flight.in_flight == 3 and delayed == 1

    responses = _held_until(
        3,
        lambda: chaos.client("catalog").get(PRODUCT),
        until=two_waiting,
        release=lambda: _remove(chaos, "catalog", "slow"),
    )
    assert [r.status_code for r in responses] == [200, 200, 200]  # the waiters got the slot
    assert chaos.metric("catalog", INJECTIONS, {"fault": "throttle"}) == 3


def test_throttle_probability_zero_never_limits(chaos):
    _throttle(chaos, "catalog", 0.0)
    with _full(chaos, "catalog", "throttled-catalog"):
        statuses = [chaos.client("catalog").get(PRODUCT).status_code for _ in range(200)]
    assert set(statuses) == {200}
    assert chaos.metric("catalog", INJECTIONS, {"fault": "throttle"}) == 0


def test_throttle_probability_one_limits_every_request(chaos):
    _throttle(chaos, "catalog", 1.0)
    with _full(chaos, "catalog", "throttled-catalog"):
        statuses = [chaos.client("catalog").get(PRODUCT).status_code for _ in range(20)]
    assert set(statuses) == {503}
    assert chaos.metric("catalog", INJECTIONS, {"fault": "throttle"}) == 20


def test_throttle_probability_0_3_limits_a_binomial_share(chaos):
    n = 300
    _throttle(chaos, "catalog", 0.3)
    with _full(chaos, "catalog", "throttled-catalog"):
        statuses = [chaos.client("catalog").get(PRODUCT).status_code for _ in range(n)]
    limited = statuses.count(503)
    low, high = binomial_bounds(n, 0.3)
    assert low <= limited <= high
    assert chaos.metric("catalog", INJECTIONS, {"fault": "throttle"}) == limited


def test_throttle_inbound_on_payment_fails_checkout_with_503s(chaos):
    _throttle(chaos, "payment")
    with _full(chaos, "payment", "throttled-payment"):
        response = buy(chaos, "throttled-in")
    assert response.status_code == 503
    assert _dep(chaos, "server_error") == 3  # 503 is retried, and refused again
    served = {"service": "payment", "route": "/authorizations", "method": "POST", "status": "503"}
    assert chaos.metric("payment", "shopsim_http_requests_total", served) == 3
    assert buy(chaos, "throttled-in-later").status_code == 201  # a free slot: through


def test_throttle_outbound_to_payment_is_a_pool_timeout_in_checkout(chaos):
    _throttle(chaos, "payment", direction="outbound")
    with _full(chaos, "checkout", "throttled-payment"):
        response = buy(chaos, "throttled-out")
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "timeout"
    assert _dep(chaos, "timeout") == 3
    served = {"service": "payment", "route": "/authorizations", "method": "POST", "status": "503"}
    assert chaos.metric("payment", "shopsim_http_requests_total", served) == 0


def test_throttle_outbound_caps_a_callers_concurrent_calls(chaos):
    patch = {"dependencies": {"payment": {"retries": 0}}}
    response = chaos.client("checkout").put("/_chaos/resilience", json=patch, environ_base=LOOPBACK)
    assert response.status_code == 200
    _throttle(chaos, "payment", direction="outbound", params={"concurrency": 2, "wait_s": 0.05})
    _slow(chaos, "payment", direction="outbound")
    dependency = chaos.ctx("checkout").dep("payment")

    def call() -> str:
        try:
            dependency.request("GET", "/charges")
            return "ok"
        except DependencyFailed as exc:
            return exc.reason

    outcomes = _held_until(
        5,
        call,
        until=lambda: _dep(chaos, "timeout") == 3,
        release=lambda: _remove(chaos, "checkout", "slow"),
    )
    assert sorted(outcomes) == ["ok", "ok", "timeout", "timeout", "timeout"]
    assert _dep(chaos, "timeout") == 3


def test_throttle_removed_lets_everything_through(chaos):
    _throttle(chaos, "catalog")
    with _full(chaos, "catalog", "throttled-catalog"):
        assert chaos.client("catalog").get(PRODUCT).status_code == 503
        response = chaos.client("catalog").delete(
            "/_chaos/faults/throttled-catalog", environ_base=LOOPBACK
        )
        assert response.status_code == 200
        assert chaos.client("catalog").get(PRODUCT).status_code == 200


def test_throttle_expires_by_itself(chaos):
    _throttle(chaos, "catalog")
    with _full(chaos, "catalog", "throttled-catalog"):
        assert chaos.client("catalog").get(PRODUCT).status_code == 503
        expire(chaos, "throttled-catalog")
        assert chaos.client("catalog").get(PRODUCT).status_code == 200
    gauge = {"fault": "throttle", "target": "catalog"}
    assert chaos.metric("catalog", "shopsim_fault_active", gauge) == 0
