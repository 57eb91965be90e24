"""db_lock: another client holds the target's locks; its writers wait, its readers do not.

Holds last a minute where a test shows a writer waiting, and end by removal: a writer is seen
waiting (never a false alarm), then seen through, whatever the machine's speed."""

from __future__ import annotations

import threading
import uuid

import pytest

from shopsim.faults.types.db_lock import DbLock
from tests.conftest import make_store
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, reset_faults, wait_for

INJECTIONS = "shopsim_fault_injections_total"


def _lock(store, probability=1.0, duration_s=60.0, name=None, **params):
    spec = {"type": "db_lock", "target": "inventory", "duration_s": duration_s}
    spec |= {"name": name} if name else {}
    return add_fault(store, spec | {"probability": probability, "params": params})


def _kind(store) -> DbLock:
    (fault,) = store.ctx("inventory").faults.active()
    return fault.kind


def _holders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fault-db_lock-")]


def _reserve(store, sku: str = "SKU-0001") -> int:
    """Reserve one `sku`; the status."""
    body = {"reservation_id": uuid.uuid4().hex, "items": [{"sku": sku, "quantity": 1}]}
    return store.client("inventory").post("/reservations", json=body).status_code


def _held(kind: DbLock) -> None:
    """Wait until the fault holds its lock."""
    wait_for(kind.holding.is_set, what="the fault holding its lock")


def _writer(store, sku: str) -> tuple[threading.Thread, list[int]]:
    """A reservation of `sku` under way in a thread of its own; its status once it is done."""
    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(_reserve(store, sku)))
    thread.start()
    return thread, statuses


def _waits(thread: threading.Thread) -> bool:
    """True if `thread` is still waiting after it had every chance to finish an unlocked write.

    Never a false alarm: a writer behind a lock held for a minute is still waiting, however
    slow the machine (a slow machine only makes an unlocked writer look blocked)."""
    thread.join(timeout=0.5)
    return thread.is_alive()


def _finished(thread: threading.Thread) -> bool:
    thread.join(timeout=60)
    return not thread.is_alive()


def _remove(store, fault) -> None:
    response = store.client("inventory").delete(
        f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK
    )
    assert response.status_code == 200


def test_db_lock_probability_zero_never_locks(chaos, monkeypatch):
    monkeypatch.setattr(DbLock, "time_scale", 0.01)
    _lock(chaos, probability=0.0, hold_s=1.0, pause_s=0)
    kind = _kind(chaos)
    assert [_reserve(chaos) for _ in range(10)] == [201] * 10
    wait_for(lambda: kind.rounds >= 10, what="10 rounds drawn")
    assert not kind.holding.is_set()
    assert chaos.metric("inventory", INJECTIONS, {"fault": "db_lock"}) == 0


def test_db_lock_makes_a_reservation_wait_until_the_lock_goes(any_store):
    try:
        fault = _lock(any_store, hold_s=60, pause_s=10)
        kind = _kind(any_store)
        _held(kind)
        writer, statuses = _writer(any_store, "DB-0001")
        assert _waits(writer)  # behind the lock
        assert kind.holding.is_set()
        _remove(any_store, fault)
        assert _finished(writer) and statuses == [201]  # and through once it is gone
        assert any_store.metric("inventory", INJECTIONS, {"fault": "db_lock"}) == 1
    finally:
        reset_faults(any_store)


def test_db_lock_hold_ends_by_itself_and_writes_go_through_in_the_pause(chaos):
    _lock(chaos, hold_s=0.3, pause_s=60)
    kind = _kind(chaos)
    _held(kind)
    writer, statuses = _writer(chaos, "DB-0001")
    assert _finished(writer) and statuses == [201]  # no removal: the hold ended on its own
    assert len(chaos.ctx("inventory").faults.active()) == 1
    wait_for(lambda: not kind.holding.is_set(), what="the holder pausing")
    assert kind.rounds == 1  # one hold, now the minute's pause
    assert _reserve(chaos, "DB-0001") == 201


def test_db_lock_leaves_reads_alone(chaos):
    kind = (_lock(chaos, hold_s=60, pause_s=10), _kind(chaos))[1]
    _held(kind)
    assert chaos.client("inventory").get("/stock/DB-0001").status_code == 200
    assert kind.holding.is_set()  # answered while the lock is held, so it never waited for it


@pytest.mark.postgres
def test_db_lock_hot_rows_spare_other_rows_and_table_scope_does_not(pg_url, settings):
    store = make_store(settings.replace(db_url=pg_url))
    try:
        fault = _lock(store, hold_s=60, pause_s=10)
        kind = _kind(store)
        _held(kind)
        assert _reserve(store, "SKU-0001") == 201  # hot_rows: only doorbuster rows are locked
        assert kind.holding.is_set()
        _remove(store, fault)
        table = _lock(store, hold_s=60, pause_s=10, scope="table")
        _held(_kind(store))
        writer, statuses = _writer(store, "SKU-0001")
        assert _waits(writer)  # the whole table is
        _remove(store, table)
        assert _finished(writer) and statuses == [201]
    finally:
        reset_faults(store)
        store.close()


def test_db_lock_probability_three_tenths_is_binomial(chaos, monkeypatch):
    monkeypatch.setattr(DbLock, "time_scale", 0.001)
    fault = _lock(chaos, probability=0.3, hold_s=0.05, pause_s=0)
    kind = _kind(chaos)
    wait_for(lambda: kind.rounds >= 300, timeout_s=60, what="300 rounds drawn")
    _remove(chaos, fault)
    low, high = binomial_bounds(kind.rounds, 0.3)
    assert low <= chaos.metric("inventory", INJECTIONS, {"fault": "db_lock"}) <= high


def test_db_lock_removal_releases_the_lock_at_once(chaos):
    fault = _lock(chaos, hold_s=30, pause_s=0)
    kind = _kind(chaos)
    _held(kind)
    _remove(chaos, fault)
    assert not kind.holding.is_set()
    wait_for(lambda: _holders() == [], what="the lock holder gone")
    assert _reserve(chaos) == 201
    labels = {"fault": "db_lock", "target": "inventory"}
    assert chaos.metric("inventory", "shopsim_fault_active", labels) == 0


def test_db_lock_removal_does_not_wait_on_a_writer_holding_the_lock(chaos):
    db = chaos.ctx("inventory").db
    with db.write():  # this thread is the writer the holder queues behind (BEGIN IMMEDIATE)
        fault = _lock(chaos, hold_s=5, pause_s=0)
        kind = _kind(chaos)
        wait_for(lambda: kind.rounds >= 1, what="the holder going for the lock")
        assert not kind.holding.is_set()
        _remove(chaos, fault)  # returns while we still hold the lock it is queued for
        assert _holders() != []  # so it could not have waited for the holder to finish
    wait_for(lambda: _holders() == [], what="the holder gone")  # it got the lock, saw it was
    assert _reserve(chaos) == 201  # stopped, and let go


def test_db_lock_expiry_releases_the_lock(chaos):
    _lock(chaos, duration_s=1.0, hold_s=30, pause_s=0, name="brief")
    kind = chaos.ctx("inventory").faults._faults["brief"].kind  # no listing: that would purge
    for holder in _holders():
        holder.join(timeout=60)  # the holder watches the fault's deadline itself
        assert not holder.is_alive()
    assert kind.rounds >= 1 and not kind.holding.is_set()
    assert chaos.ctx("inventory").faults._faults  # nobody has swept the fault away yet
    assert _reserve(chaos) == 201  # and the lock is free
    assert chaos.ctx("inventory").faults.active() == []


def test_db_lock_bad_scope_is_refused(chaos):
    spec = {"type": "db_lock", "target": "inventory", "duration_s": 5, "params": {"scope": "db"}}
    response = chaos.client("inventory").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "params.scope"
    assert _holders() == []
