"""db_slow: every database statement of the target may wait before it runs."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from shopsim.faults.types.db_slow import DbSlow, DbSlowParams
from shopsim.settings import Settings
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds

INJECTIONS = "shopsim_fault_injections_total"
SEARCH = "/products?q=nothing-matches-this"  # not cached: one query per request
DURATION = {"service": "catalog", "route": "/products", "method": "GET"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """catalog with 2 worker threads: a pool of 2 (+2 overflow) connections to exhaust."""
    return settings.replace(threads=dict(settings.threads, catalog=2))


def _slow(store, probability=1.0, duration_s=60.0, **params):
    spec = {"type": "db_slow", "target": "catalog", "duration_s": duration_s}
    return add_fault(store, spec | {"probability": probability, "params": params})


@contextmanager
def _statements(store, service: str = "catalog") -> Iterator[list[str]]:
    """Every statement `service` sends to its database while inside."""
    seen: list[str] = []
    engine = store.ctx(service).db.engine

    def count(_conn, _cursor, statement, *_rest) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _timed(client, path: str) -> float:
    started = time.perf_counter()
    assert client.get(path).status_code == 200
    return time.perf_counter() - started


def test_db_slow_probability_zero_never_delays(chaos):
    _slow(chaos, probability=0.0, ms=500)
    client = chaos.client("catalog")
    with _statements(chaos) as seen:
        slowest = max(_timed(client, SEARCH) for _ in range(100))
    assert len(seen) >= 200
    assert slowest < 0.25
    assert chaos.metric("catalog", INJECTIONS, {"fault": "db_slow"}) == 0


def test_db_slow_probability_one_delays_every_statement(chaos):
    _slow(chaos, ms=60)
    client = chaos.client("catalog")
    with _statements(chaos) as seen:
        times = [_timed(client, SEARCH) for _ in range(5)]
    per_request = len(seen) / 5  # BEGIN and the SELECT
    assert per_request >= 2
    assert min(times) >= 0.06 * per_request * 0.95
    assert chaos.metric("catalog", INJECTIONS, {"fault": "db_slow"}) == len(seen)
    assert chaos.metric("catalog", "shopsim_http_request_duration_seconds_sum", DURATION) >= 0.5


def test_db_slow_probability_three_tenths_is_binomial(chaos):
    _slow(chaos, probability=0.3, ms=0)
    client = chaos.client("catalog")
    with _statements(chaos) as seen:
        for _ in range(150):
            client.get(SEARCH)
    low, high = binomial_bounds(len(seen), 0.3)
    assert len(seen) >= 300
    assert low <= chaos.metric("catalog", INJECTIONS, {"fault": "db_slow"}) <= high


def test_db_slow_only_slows_the_target(chaos):
    _slow(chaos, ms=100)
    started = time.perf_counter()
    response = chaos.client("cart").post("/carts/7/items", json={"sku": "SKU-0003", "quantity": 1})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.2  # catalog's product read: BEGIN + SELECT
    dep = {"service": "cart", "dependency": "catalog"}
    assert chaos.metric("cart", "shopsim_dependency_request_duration_seconds_sum", dep) >= 0.2
    assert chaos.metric("cart", INJECTIONS, {"fault": "db_slow"}) == 0
    assert _timed(chaos.client("cart"), "/carts/7") < 0.1  # cart's own queries are not slowed


def test_db_slow_exhausts_the_connection_pool(chaos):
    _slow(chaos, ms=100)
    before = chaos.metric("catalog", "shopsim_db_pool_wait_seconds_sum", {"service": "catalog"})
    app = chaos.apps["catalog"]

    def search() -> None:
        assert app.test_client().get(SEARCH).status_code == 200

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waited = chaos.metric("catalog", "shopsim_db_pool_wait_seconds_sum", {"service": "catalog"})
    assert waited - before >= 0.15  # 8 requests, 4 connections each held >= 0.2 s


def test_db_slow_jitter_spreads_the_delay():
    kind = DbSlow(DbSlowParams(ms=50, jitter_ms=50))
    rng = random.Random(3)
    delays = [kind.decide(rng, 0.0).seconds for _ in range(200)]
    assert min(delays) >= 0 and max(delays) <= 0.1
    assert max(delays) - min(delays) > 0.08


def test_db_slow_removal_restores_speed(chaos):
    fault = _slow(chaos, ms=200)
    client = chaos.client("catalog")
    assert _timed(client, SEARCH) >= 0.4
    response = client.delete(f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK)
    assert response.status_code == 200
    assert max(_timed(client, SEARCH) for _ in range(5)) < 0.1


def test_db_slow_expiry_restores_speed(chaos):
    _slow(chaos, duration_s=0.3, ms=200)
    client = chaos.client("catalog")
    assert _timed(client, SEARCH) >= 0.2
    time.sleep(0.3)
    assert max(_timed(client, SEARCH) for _ in range(5)) < 0.1
    assert chaos.ctx("catalog").faults.active() == []
