"""latency: requests are slowed by ms (+- jitter_ms, or lognormal around ms), inbound on the
target or outbound on its callers; the delay shows in the server and dependency histograms."""

from __future__ import annotations

import random
import statistics
import threading

import httpx

from shopsim.faults.types.latency import Latency, LatencyParams
from tests.faults.conftest import (
    LOOPBACK,
    add_fault,
    binomial_bounds,
    buy,
    expire,
    served,
    wait_for,
)

PRODUCT = "/products/SKU-0001"
PRODUCT_ROUTE = "/products/<sku>"
HTTP = "shopsim_http_request_duration_seconds"
DEP = "shopsim_dependency_request_duration_seconds"
CHECKOUT_PAYMENT = {"service": "checkout", "dependency": "payment"}


def _served(store, service: str, route: str, method: str, part: str, le: str = "") -> float:
    labels = {"service": service, "route": route, "method": method} | ({"le": le} if le else {})
    return store.metric(service, f"{HTTP}_{part}", labels)


def _catalog(store, part: str, le: str = "") -> float:
    return _served(store, "catalog", PRODUCT_ROUTE, "GET", part, le)


def _dep(store, part: str, le: str = "") -> float:
    return store.metric("checkout", f"{DEP}_{part}", CHECKOUT_PAYMENT | ({"le": le} if le else {}))


def _injections(store, service: str) -> float:
    return store.metric(service, "shopsim_fault_injections_total", {"fault": "latency"})


def _get_products(store, n: int) -> None:
    client = store.client("catalog")
    for _ in range(n):
        assert client.get(PRODUCT).status_code == 200


def _catalog_latency(store, probability: float, ms: float, **extra) -> dict:
    spec = {
        "name": "slow-catalog",
        "type": "latency",
        "target": "catalog",
        "probability": probability,
        "duration_s": 60,
        "params": {"ms": ms},
    }
    return add_fault(store, spec | extra)


def test_latency_probability_zero_never_delays(chaos):
    _catalog_latency(chaos, 0.0, 120_000)  # one delayed request would hold the test 2 minutes
    _get_products(chaos, 200)
    assert _catalog(chaos, "count") == 200
    assert _injections(chaos, "catalog") == 0  # not one decision to delay
    assert _catalog(chaos, "bucket", "30.0") == 200  # and none waited


def test_latency_probability_one_delays_every_request(chaos):
    _catalog_latency(chaos, 1.0, 25)
    _get_products(chaos, 20)
    assert _catalog(chaos, "count") == 20
    assert _catalog(chaos, "bucket", "0.025") == 0  # every one waited 25 ms or more
    assert _catalog(chaos, "sum") >= 20 * 0.025
    assert _injections(chaos, "catalog") == 20


def test_latency_probability_0_3_delays_a_binomial_share(chaos):
    n = 300
    _catalog_latency(chaos, 0.3, 25)
    _get_products(chaos, n)
    fired = _injections(chaos, "catalog")
    low, high = binomial_bounds(n, 0.3)
    assert low <= fired <= high
    slow = _catalog(chaos, "count") - _catalog(chaos, "bucket", "0.025")
    assert slow >= fired  # every request it fired on waited its 25 ms (a busy machine adds more)


def test_latency_waits_the_delays_its_seeded_rng_draws(chaos):
    n = 40
    params = {"ms": 20, "jitter_ms": 10}
    fault = _catalog_latency(chaos, 1.0, 20, params=params)
    _get_products(chaos, n)
    # The same draws again, from the fault's own seeded stream: what each request had to wait.
    rng = random.Random(f"{chaos.settings.seed}:catalog:{fault['name']}")
    kind = Latency(LatencyParams(**params))
    delays = []
    for _ in range(n):
        assert rng.random() < 1.0  # the probability draw comes first
        delays.append(kind.decide(rng, 0.0).seconds)
    assert min(delays) >= 0.01 and max(delays) <= 0.03 and len(set(delays)) > n // 2
    assert _catalog(chaos, "count") == n
    assert _catalog(chaos, "bucket", "0.01") == 0  # each waited at least ms - jitter_ms
    assert _catalog(chaos, "sum") >= sum(delays)  # and, together, every drawn delay


def test_latency_decide_is_pure_and_follows_the_distribution():
    uniform = Latency(LatencyParams(ms=100, jitter_ms=20))
    a = [uniform.decide(random.Random(7), 0.0).seconds for _ in range(3)]
    assert a[0] == a[1] == a[2]  # same RNG state, same answer: nothing else is consulted
    draws = [uniform.decide(random.Random(i), 0.0).seconds for i in range(2000)]
    assert min(draws) >= 0.08 and max(draws) <= 0.12
    assert abs(statistics.mean(draws) - 0.1) < 0.002
    lognormal = Latency(LatencyParams(ms=100, distribution="lognormal"))
    rng = random.Random(3)
    draws = [lognormal.decide(rng, 0.0).seconds for _ in range(4000)]
    assert abs(statistics.median(draws) - 0.1) < 0.01  # ms is the median
    assert max(draws) > 0.15  # with a tail
    assert Latency(LatencyParams(ms=0, jitter_ms=0)).decide(rng, 0.0).seconds == 0


def test_latency_inbound_on_payment_slows_checkout_and_payment(chaos):
    add_fault(
        chaos, {"type": "latency", "target": "payment", "duration_s": 60, "params": {"ms": 30}}
    )
    response = buy(chaos, "slow-inbound")
    assert response.status_code == 201, response.get_json()
    # checkout, the caller, sees both payment calls (authorize, capture) wait 30 ms or more
    assert _dep(chaos, "count") == 2
    assert _dep(chaos, "bucket", "0.025") == 0
    assert _dep(chaos, "sum") >= 0.06
    # payment, the target, served them slowly, and successfully
    for route in ("/authorizations", "/authorizations/<authorization_id>/capture"):
        assert _served(chaos, "payment", route, "POST", "count") == 1
        assert _served(chaos, "payment", route, "POST", "bucket", "0.025") == 0
    assert _injections(chaos, "payment") == 2
    assert _injections(chaos, "checkout") == 0


def test_latency_outbound_to_payment_slows_only_the_caller(chaos):
    spec = {"type": "latency", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec | {"params": {"ms": 30}})
    response = buy(chaos, "slow-outbound")
    assert response.status_code == 201, response.get_json()
    assert _dep(chaos, "count") == 2
    assert _dep(chaos, "bucket", "0.025") == 0  # checkout waited on every call
    assert _dep(chaos, "sum") >= 0.06
    assert _served(chaos, "payment", "/authorizations", "POST", "count") == 1
    assert _injections(chaos, "checkout") == 2  # the caller waited
    assert _injections(chaos, "payment") == 0  # payment itself did not


def test_latency_route_glob_limits_the_fault_to_matching_routes(chaos):
    _catalog_latency(chaos, 1.0, 30, route="/products")  # the search, not the product page
    _get_products(chaos, 5)
    assert _injections(chaos, "catalog") == 0
    assert chaos.client("catalog").get("/products?limit=1").status_code == 200
    assert _injections(chaos, "catalog") == 1
    search = {"service": "catalog", "route": "/products", "method": "GET", "le": "0.025"}
    assert chaos.metric("catalog", f"{HTTP}_bucket", search) == 0  # the search waited


def test_latency_removed_restores_normal_speed(chaos):
    _catalog_latency(chaos, 1.0, 50)
    _get_products(chaos, 3)
    assert _catalog(chaos, "bucket", "0.05") == 0
    response = chaos.client("catalog").delete("/_chaos/faults/slow-catalog", environ_base=LOOPBACK)
    assert response.status_code == 200
    _get_products(chaos, 20)
    assert _catalog(chaos, "count") == 23
    assert _injections(chaos, "catalog") == 3  # the 20 after removal were not delayed
    gauge = {"fault": "latency", "target": "catalog"}
    assert chaos.metric("catalog", "shopsim_fault_active", gauge) == 0


def test_latency_expires_by_itself(chaos):
    _catalog_latency(chaos, 1.0, 50)
    _get_products(chaos, 2)
    assert _catalog(chaos, "bucket", "0.05") == 0
    expire(chaos, "slow-catalog")
    _get_products(chaos, 20)
    assert _injections(chaos, "catalog") == 2
    assert (
        chaos.metric("catalog", "shopsim_fault_active", {"fault": "latency", "target": "catalog"})
        == 0
    )


def test_latency_removal_lets_requests_it_holds_go_at_once(chaos):
    _catalog_latency(chaos, 1.0, 120_000)  # two minutes, far longer than the test may take
    with served(chaos.apps["catalog"]) as url:
        answers: list[httpx.Response] = []
        reader = threading.Thread(target=lambda: answers.append(httpx.get(url + PRODUCT)))
        reader.start()
        wait_for(lambda: _injections(chaos, "catalog") == 1, what="the request held")
        assert httpx.delete(f"{url}/_chaos/faults/slow-catalog").status_code == 200
        reader.join(timeout=60)
        assert not reader.is_alive(), "the request is still held after the fault was removed"
    assert answers[0].status_code == 200 and answers[0].json()["sku"] == "SKU-0001"
    assert _catalog(chaos, "bucket", "30.0") == 1  # it did not wait out the two minutes


def test_latency_reset_lets_outbound_calls_it_holds_go(chaos):
    spec = {"name": "slow-calls", "type": "latency", "target": "payment", "direction": "outbound"}
    add_fault(chaos, spec | {"duration_s": 60, "params": {"ms": 120_000}})
    answers = []
    buyer = threading.Thread(target=lambda: answers.append(buy(chaos, "held-then-let-go")))
    buyer.start()
    wait_for(lambda: _injections(chaos, "checkout") == 1, what="checkout's call held")
    reset = chaos.client("checkout").post("/_chaos/reset", json={}, environ_base=LOOPBACK)
    assert reset.get_json()["removed"] == 1
    buyer.join(timeout=60)
    assert not buyer.is_alive(), "the call is still held after the reset"
    assert answers[0].status_code == 201, answers[0].get_json()
    assert _dep(chaos, "bucket", "30.0") == _dep(chaos, "count") == 2
