"""db_lock: another client holds the target's locks; its writers wait, its readers do not."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from shopsim.faults.types.db_lock import DbLock
from tests.conftest import make_store
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, reset_faults

INJECTIONS = "shopsim_fault_injections_total"


def _lock(store, probability=1.0, duration_s=60.0, **params):
    spec = {"type": "db_lock", "target": "inventory", "duration_s": duration_s}
    return add_fault(store, spec | {"probability": probability, "params": params})


def _kind(store) -> DbLock:
    (fault,) = store.ctx("inventory").faults.active()
    return fault.kind


def _holders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fault-db_lock-")]


def _reserve(store, sku: str = "SKU-0001") -> float:
    """Seconds a one-item reservation of `sku` takes (it must succeed)."""
    body = {"reservation_id": uuid.uuid4().hex, "items": [{"sku": sku, "quantity": 1}]}
    started = time.perf_counter()
    response = store.client("inventory").post("/reservations", json=body)
    assert response.status_code == 201, response.get_json()
    return time.perf_counter() - started


def _held(kind: DbLock) -> float:
    """Wait until the lock is taken; the time it was seen taken."""
    assert kind.holding.wait(5), "the fault never took its lock"
    return time.perf_counter()


def test_db_lock_probability_zero_never_locks(chaos, monkeypatch):
    monkeypatch.setattr(DbLock, "time_scale", 0.01)
    _lock(chaos, probability=0.0, hold_s=1.0, pause_s=0)
    kind = _kind(chaos)
    assert max(_reserve(chaos) for _ in range(10)) < 0.3
    time.sleep(0.2)
    assert kind.rounds >= 10
    assert not kind.holding.is_set()
    assert chaos.metric("inventory", INJECTIONS, {"fault": "db_lock"}) == 0


def test_db_lock_makes_a_reservation_wait_out_the_hold(any_store):
    try:
        kind = (_lock(any_store, hold_s=0.8, pause_s=10), _kind(any_store))[1]
        seen = _held(kind)
        _reserve(any_store, "DB-0001")
        assert time.perf_counter() - seen >= 0.7  # it could only finish once the hold ended
        assert (
            _reserve(any_store, "DB-0001") < 0.3
        )  # then, in the pause, writes go straight through
        assert any_store.metric("inventory", INJECTIONS, {"fault": "db_lock"}) == 1
    finally:
        reset_faults(any_store)


def test_db_lock_leaves_reads_alone(chaos):
    kind = (_lock(chaos, hold_s=2, pause_s=10), _kind(chaos))[1]
    _held(kind)
    started = time.perf_counter()
    assert chaos.client("inventory").get("/stock/DB-0001").status_code == 200
    assert time.perf_counter() - started < 0.5
    assert kind.holding.is_set()


@pytest.mark.postgres
def test_db_lock_hot_rows_spare_other_rows_and_table_scope_does_not(pg_url, settings):
    store = make_store(settings.replace(db_url=pg_url))
    try:
        fault = _lock(store, hold_s=0.8, pause_s=10)
        _held(_kind(store))
        assert _reserve(store, "SKU-0001") < 0.4  # hot_rows: only doorbuster rows are locked
        response = store.client("inventory").delete(
            f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
        )
        assert response.status_code == 200
        _lock(store, hold_s=0.8, pause_s=10, scope="table")
        seen = _held(_kind(store))
        _reserve(store, "SKU-0001")
        assert time.perf_counter() - seen >= 0.7
    finally:
        reset_faults(store)
        store.close()


def test_db_lock_probability_three_tenths_is_binomial(chaos, monkeypatch):
    monkeypatch.setattr(DbLock, "time_scale", 0.001)
    fault = _lock(chaos, probability=0.3, hold_s=0.05, pause_s=0)
    kind = _kind(chaos)
    deadline = time.monotonic() + 5
    while kind.rounds < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    chaos.client("inventory").delete(f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK)
    low, high = binomial_bounds(kind.rounds, 0.3)
    assert kind.rounds >= 300
    assert low <= chaos.metric("inventory", INJECTIONS, {"fault": "db_lock"}) <= high


def test_db_lock_removal_releases_the_lock_at_once(chaos):
    fault = _lock(chaos, hold_s=30, pause_s=0)
    kind = _kind(chaos)
    _held(kind)
    started = time.perf_counter()
    response = chaos.client("inventory").delete(
        f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
    )
    assert response.status_code == 200
    assert time.perf_counter() - started < 1.0
    assert not kind.holding.is_set()
    assert _holders() == []
    assert _reserve(chaos) < 0.3
    labels = {"fault": "db_lock", "target": "inventory"}
    assert chaos.metric("inventory", "shopsim_fault_active", labels) == 0


def test_db_lock_removal_does_not_wait_on_a_writer_holding_the_lock(chaos):
    db = chaos.ctx("inventory").db
    with db.write():  # this thread is the writer the holder queues behind (BEGIN IMMEDIATE)
        fault = _lock(chaos, hold_s=5, pause_s=0)
        time.sleep(0.2)
        assert not _kind(chaos).holding.is_set()
        started = time.perf_counter()
        response = chaos.client("inventory").delete(
            f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
        )
        assert response.status_code == 200
        assert time.perf_counter() - started < 2.0  # not the 30 s busy timeout
    deadline = time.monotonic() + 2
    while _holders() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _holders() == []  # it got the lock, saw it was stopped, and let go
    assert _reserve(chaos) < 0.3


def test_db_lock_expiry_releases_the_lock(chaos):
    added = time.perf_counter()
    _lock(chaos, duration_s=0.5, hold_s=30, pause_s=0)
    kind = _kind(chaos)
    _held(kind)
    _reserve(chaos)
    assert 0.4 <= time.perf_counter() - added < 1.5  # the rest of the fault's life, not 30 s
    time.sleep(0.1)
    assert not kind.holding.is_set()
    assert _holders() == []  # the holder watches the deadline itself
    chaos.ctx("inventory").faults.purge()  # what the service's expiry worker does
    assert chaos.ctx("inventory").faults.active() == []


def test_db_lock_bad_scope_is_refused(chaos):
    spec = {"type": "db_lock", "target": "inventory", "duration_s": 5, "params": {"scope": "db"}}
    response = chaos.client("inventory").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "params.scope"
    assert _holders() == []
