"""db_slow: every database statement of the target may wait before it runs."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from shopsim.faults.types.db_slow import DbSlow, DbSlowParams
from shopsim.settings import Settings
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire, wait_for

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


def _searched(store, le: str = "") -> float:
    """Searches catalog has answered (in `le` seconds or less, when given)."""
    name = "shopsim_http_request_duration_seconds_" + ("bucket" if le else "count")
    return store.metric("catalog", name, DURATION | ({"le": le} if le else {}))


def _fired(store, service: str = "catalog") -> float:
    return store.metric(service, INJECTIONS, {"fault": "db_slow"})


def _search(client, n: int = 1) -> None:
    for _ in range(n):
        assert client.get(SEARCH).status_code == 200


def test_db_slow_probability_zero_never_delays(chaos):
    _slow(chaos, probability=0.0, ms=60_000)  # one delayed statement would hold a minute
    with _statements(chaos) as seen:
        _search(chaos.client("catalog"), 100)
    assert len(seen) >= 200
    assert _fired(chaos) == 0
    assert _searched(chaos, "30.0") == 100


def test_db_slow_probability_one_delays_every_statement(chaos):
    _slow(chaos, ms=60)
    with _statements(chaos) as seen:
        _search(chaos.client("catalog"), 5)
    assert len(seen) / 5 >= 2  # BEGIN and the SELECT
    assert _fired(chaos) == len(seen)
    assert _searched(chaos) == 5
    assert _searched(chaos, "0.1") == 0  # each waited 2 x 60 ms at least


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
    response = chaos.client("cart").post("/carts/7/items", json={"sku": "SKU-0003", "quantity": 1})
    assert response.status_code == 200
    dep = {"service": "cart", "dependency": "catalog"}
    # cart waited on catalog's product read: BEGIN + SELECT, 100 ms each
    assert chaos.metric("cart", "shopsim_dependency_request_duration_seconds_sum", dep) >= 0.2
    assert _fired(chaos) >= 2
    assert chaos.client("cart").get("/carts/7").status_code == 200
    assert _fired(chaos, "cart") == 0  # cart's own queries are not slowed


def test_db_slow_exhausts_the_connection_pool(chaos):
    _slow(chaos, ms=100)
    before = chaos.metric("catalog", "shopsim_db_pool_wait_seconds_sum", {"service": "catalog"})
    app = chaos.apps["catalog"]
    together = threading.Barrier(8)

    def search() -> None:
        together.wait()
        assert app.test_client().get(SEARCH).status_code == 200

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waited = chaos.metric("catalog", "shopsim_db_pool_wait_seconds_sum", {"service": "catalog"})
    assert waited - before >= 0.15  # 8 requests at once, 4 connections each held >= 0.2 s


def test_db_slow_jitter_spreads_the_delay():
    kind = DbSlow(DbSlowParams(ms=50, jitter_ms=50))
    rng = random.Random(3)
    delays = [kind.decide(rng, 0.0).seconds for _ in range(200)]
    assert min(delays) >= 0 and max(delays) <= 0.1
    assert max(delays) - min(delays) > 0.08


def test_db_slow_removal_restores_speed(chaos):
    fault = _slow(chaos, ms=200)
    client = chaos.client("catalog")
    _search(client)
    assert _searched(chaos, "0.25") == 0
    fired = _fired(chaos)
    response = client.delete(f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK)
    assert response.status_code == 200
    _search(client, 5)
    assert _fired(chaos) == fired  # not one statement delayed since


def test_db_slow_expiry_restores_speed(chaos):
    fault = _slow(chaos, ms=200)
    client = chaos.client("catalog")
    _search(client)
    fired = _fired(chaos)
    assert fired >= 2
    expire(chaos, fault["name"])
    _search(client, 5)
    assert _fired(chaos) == fired
    assert chaos.ctx("catalog").faults.active() == []


def _remove(store, name: str) -> None:
    response = store.client("catalog").delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def _reset(store, _name: str) -> None:
    response = store.client("catalog").post("/_chaos/reset", json={}, environ_base=LOOPBACK)
    assert response.get_json()["removed"] == 1


def _expire(store, name: str) -> None:
    expire(store, name)
    store.ctx("catalog").faults.purge()  # what the service's expiry sweeper does


@pytest.mark.parametrize("end", [_remove, _reset, _expire], ids=["removal", "reset", "expiry"])
def test_db_slow_end_lets_the_statement_it_holds_go_at_once(chaos, end):
    fault = _slow(chaos, ms=60_000)  # a minute per statement, far longer than the test may take
    answers = []
    app = chaos.apps["catalog"]
    reader = threading.Thread(target=lambda: answers.append(app.test_client().get(SEARCH)))
    reader.start()
    wait_for(lambda: _fired(chaos) == 1, what="the search's first statement held")
    assert reader.is_alive()
    end(chaos, fault["name"])
    reader.join(timeout=60)  # not a minute per statement: the fault's end lets it go
    assert not reader.is_alive(), "the statement is still held after the fault ended"
    assert answers[0].status_code == 200
    assert _fired(chaos) == 1  # the statements after it were not delayed
    assert _searched(chaos, "30.0") == 1  # it did not wait out its minute
