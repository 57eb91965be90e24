"""cache_off: catalog's product cache is bypassed; every lookup becomes a database query."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from shopsim.settings import Settings
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire

INJECTIONS = "shopsim_fault_injections_total"
SKU = "SKU-0005"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A cache entry outlives the test, so every lookup that is not a hit is the fault's doing."""
    return settings.replace(catalog_cache_ttl_s=600.0)


def _off(store, probability=1.0, duration_s=60.0):
    spec = {"type": "cache_off", "target": "catalog", "duration_s": duration_s}
    return add_fault(store, spec | {"probability": probability})


def _lookups(store, result: str) -> float:
    labels = {"cache": "catalog", "result": result}
    return store.metric("catalog", "shopsim_cache_lookups_total", labels)


def _read(store, times: int, sku: str = SKU) -> None:
    client = store.client("catalog")
    for _ in range(times):
        response = client.get(f"/products/{sku}")
        assert response.status_code == 200
        assert response.get_json()["sku"] == sku


def _queries(store) -> list[str]:
    """Statements the catalog sends to its database from now on."""
    seen: list[str] = []
    event.listen(
        store.ctx("catalog").db.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_rest: seen.append(statement),
    )
    return seen


def test_cache_off_bypass_series_exists_at_zero(store):
    value = store.ctx("catalog").metrics.registry.get_sample_value(
        "shopsim_cache_lookups_total", {"cache": "catalog", "result": "bypass"}
    )
    assert value == 0.0


def test_cache_off_probability_zero_keeps_hitting(chaos):
    _read(chaos, 1)  # warm
    _off(chaos, probability=0.0)
    queries = _queries(chaos)
    _read(chaos, 200)
    assert _lookups(chaos, "hit") == 200
    assert _lookups(chaos, "bypass") == 0
    assert not any("catalog_products" in q for q in queries)
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cache_off"}) == 0


def test_cache_off_probability_one_sends_every_read_to_the_database(chaos):
    _read(chaos, 1)  # warm: one miss
    _off(chaos)
    queries = _queries(chaos)
    _read(chaos, 50)
    assert _lookups(chaos, "hit") == 0
    assert _lookups(chaos, "miss") == 1
    assert _lookups(chaos, "bypass") == 50
    assert sum("catalog_products" in q for q in queries) == 50
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cache_off"}) == 50


def test_cache_off_bypasses_price_lookups_too(chaos):
    _off(chaos)
    skus = [p.sku for p in chaos.data.products[:3]]
    body = chaos.client("catalog").post("/prices", json={"skus": skus}).get_json()
    assert body["prices"] == {p.sku: p.price_cents for p in chaos.data.products[:3]}
    assert _lookups(chaos, "bypass") == 3


def test_cache_off_probability_three_tenths_is_binomial(chaos):
    _read(chaos, 1)
    _off(chaos, probability=0.3)
    _read(chaos, 300)
    low, high = binomial_bounds(300, 0.3)
    assert low <= _lookups(chaos, "bypass") <= high
    assert _lookups(chaos, "hit") + _lookups(chaos, "bypass") == 300
    assert chaos.metric("catalog", INJECTIONS, {"fault": "cache_off"}) == _lookups(chaos, "bypass")


def test_cache_off_removal_brings_hits_back(chaos):
    fault = _off(chaos)
    _read(chaos, 5)
    assert _lookups(chaos, "bypass") == 5
    response = chaos.client("catalog").delete(
        f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
    )
    assert response.status_code == 200
    _read(chaos, 10)
    assert _lookups(chaos, "miss") == 1  # the bypassed reads cached nothing
    assert _lookups(chaos, "hit") == 9
    assert _lookups(chaos, "bypass") == 5


def test_cache_off_expiry_brings_hits_back(chaos):
    _read(chaos, 1)
    fault = _off(chaos)
    _read(chaos, 3)
    assert _lookups(chaos, "bypass") == 3
    expire(chaos, fault["name"])
    _read(chaos, 10)
    assert _lookups(chaos, "hit") == 10
    assert _lookups(chaos, "bypass") == 3
