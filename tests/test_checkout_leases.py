"""checkout's leases: an attempt whose process died is taken over once its lease has run out,
by the next retry or by `recover`; an attempt this process runs, or one beaten within its lease,
never is. (tests/test_crash_recovery.py kills a real checkout process mid-saga.)"""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select

from shopsim.services import checkout
from shopsim.services.checkout import attempts, leases, tables
from tests.test_checkout import Faulty, _attempt, _body, _charges, _checkout, _oid, _order, _stock


def _left_running(store, body: dict[str, Any], step: str, updated_at: float) -> None:
    """An attempt row in "running" that no thread of this process runs (another process's)."""
    asked = checkout.CheckoutRequest.model_validate(body).model_dump(
        mode="json", exclude={"idempotency_key"}
    )
    with store.ctx("checkout").db.write() as conn:
        conn.execute(
            tables.attempts.insert().values(
                customer_id=body["customer_id"],
                idempotency_key=body["idempotency_key"],
                request_hash=attempts.request_hash(asked),
                attempt_no=1,
                state="running",
                step=step,
                order_id=_oid(body),
                created_at=updated_at,
                updated_at=updated_at,
            )
        )


def _reserved_by_a_dead_process(store, body: dict[str, Any]) -> str:
    """A process died after reserving: its attempt is still "running", its hold still exists."""
    rid = f"{_oid(body)}-1"
    held = store.client("inventory").post(
        "/reservations", json={"reservation_id": rid, "items": body["items"]}
    )
    assert held.status_code == 201, held.get_json()
    _left_running(store, body, "authorize", time.time() - leases.LEASE_S - 1)
    return rid


def _reservation(store, rid: str) -> str:
    return store.client("inventory").get(f"/reservations/{rid}").get_json()["status"]


class DuringAuthorization(Faulty):
    """Runs `meanwhile` while checkout's saga waits for its authorization, then forwards."""

    def __init__(self, app: Any, meanwhile: Any) -> None:
        super().__init__(app)
        self.meanwhile = meanwhile

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/authorizations":
            self.meanwhile()
        return super().handle_request(request)


def _age(store, body: dict[str, Any], seconds: float) -> None:
    """Set the attempt's last sign of life `seconds` back, as a late heartbeat would leave it."""
    att = tables.attempts
    with store.ctx("checkout").db.write() as conn:
        conn.execute(
            att.update()
            .where(
                att.c.customer_id == body["customer_id"],
                att.c.idempotency_key == body["idempotency_key"],
            )
            .values(updated_at=time.time() - seconds)
        )


def test_retry_takes_over_an_orphaned_attempt_and_confirms_with_one_charge(any_store):
    store = any_store  # on SQLite, then PostgreSQL
    body = _body(store, items=[{"sku": "SKU-0005", "quantity": 1}])
    before = _stock(store, "SKU-0005")
    rid = _reserved_by_a_dead_process(store, body)
    response = _checkout(store, body)
    assert response.status_code == 201, response.get_json()
    assert _reservation(store, rid) == "released"  # the dead attempt's hold, undone first
    order = _order(store, _oid(body))
    assert (order["status"], order["reservation_id"]) == ("confirmed", f"{_oid(body)}-2")
    assert len(_charges(store, _oid(body))) == 1
    assert _stock(store, "SKU-0005")["on_hand"] == before["on_hand"] - 1
    assert _stock(store, "SKU-0005")["reserved"] == 0
    assert _attempt(store, body).state == "done"


def test_recover_releases_an_orphaned_attempt_then_retry_succeeds(store):
    body = _body(store, items=[{"sku": "SKU-0005", "quantity": 1}])
    rid = _reserved_by_a_dead_process(store, body)
    assert checkout.recover(store.ctx("checkout")) == 1
    assert _reservation(store, rid) == "released"
    assert _attempt(store, body).state == "retryable"
    response = _checkout(store, body)
    assert response.status_code == 201
    assert _order(store, _oid(body))["reservation_id"] == f"{_oid(body)}-2"


def test_attempt_beaten_within_its_lease_is_in_use_for_retries_and_recover(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    # Another live process beat it; stamped ahead so that no pause of this test can age it.
    _left_running(store, body, "capture", time.time() + 3600)
    response = _checkout(store, body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert checkout.recover(store.ctx("checkout")) == 0
    assert _attempt(store, body).state == "running"
    assert _charges(store, _oid(body)) == []


def test_attempt_this_process_runs_is_never_taken_over_even_when_its_beat_is_late(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    ctx = store.ctx("checkout")
    seen: dict[str, Any] = {}

    def meanwhile() -> None:
        _age(store, body, leases.LEASE_S + 60)  # the heartbeat was held up, say by a lock
        seen["retry"] = _checkout(store, body)
        seen["recovered"] = checkout.recover(ctx)
        seen["state"] = _attempt(store, body).state

    transport = DuringAuthorization(store.apps["payment"], meanwhile)
    with store.transport("checkout", "payment", transport):
        response = _checkout(store, body)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert seen["retry"].status_code == 409
    assert seen["retry"].get_json()["error"]["code"] == "idempotency_key_in_use"
    assert (seen["recovered"], seen["state"]) == (0, "running")
    assert len(_charges(store, _oid(body))) == 1
    assert leases.of(ctx).held() == []  # let go once answered


def test_heartbeat_refreshes_only_the_attempts_this_process_runs(store):
    mine = _body(store, "mine", items=[{"sku": "SKU-0001", "quantity": 1}])
    other = _body(store, "other", items=[{"sku": "SKU-0001", "quantity": 1}])
    long_ago = time.time() - 3600
    _left_running(store, other, "capture", long_ago)
    ctx = store.ctx("checkout")
    seen: dict[str, Any] = {}

    def meanwhile() -> None:
        _age(store, mine, 3600)
        beaten_after = time.time()
        seen["touched"] = leases.beat(ctx)
        seen["fresh"] = _attempt(store, mine).updated_at >= beaten_after

    transport = DuringAuthorization(store.apps["payment"], meanwhile)
    with store.transport("checkout", "payment", transport):
        assert _checkout(store, mine).status_code == 201
    assert seen == {"touched": 1, "fresh": True}
    assert _attempt(store, other).updated_at == long_ago
    assert leases.beat(ctx) == 0  # nothing running: no write at all


def test_heartbeat_never_revives_a_finished_attempt(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    assert _checkout(store, body).status_code == 201
    claim = attempts.Claim(body["customer_id"], body["idempotency_key"], _oid(body), 1, "", False)
    ctx = store.ctx("checkout")
    with leases.of(ctx).holding(claim):  # a stale entry must not turn "done" back into running
        assert leases.beat(ctx) == 0
    att = tables.attempts
    with ctx.db.read() as conn:
        states = conn.execute(select(att.c.state)).scalars().all()
    assert states == ["done"]
