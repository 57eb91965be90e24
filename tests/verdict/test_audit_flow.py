"""The audit's checks of checkouts as work: carts emptied after orders, and half-done checkouts
listed in flight, or counted as stuck once nothing looks after them."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import httpx
import sqlalchemy as sa

from shopsim.services.checkout import recover
from shopsim.services.checkout.tables import attempts, followups
from shopsim.services.notifications import send_pending
from shopsim.services.payment.gateway import of as gateway_of
from shopsim.verdict.audit import TAKEOVER_BOUND_S, audit, audit_snapshot
from shopsim.verdict.snapshot import Snapshot
from tests.conftest import wait_for
from tests.verdict.shop import (
    cart_checkout,
    connect_error,
    databases,
    found,
    order,
    routed,
    shop_cleanly,
)


def cart_purchases_answer(answer):
    """Refuse cart's POST /carts/<id>/purchases with `answer`; everything else goes through."""

    def refuse(request: httpx.Request):
        if request.method == "POST" and request.url.path.endswith("/purchases"):
            return answer(request)
        return None

    return refuse


def test_an_order_whose_cart_was_never_emptied_is_counted(store):
    shop_cleanly(store)
    unprocessable = cart_purchases_answer(lambda r: httpx.Response(422, json={"error": {}}))
    with store.transport("checkout", "cart", routed(store, "cart", unprocessable)):
        placed = cart_checkout(store, 8, "keep-1", ("SKU-0030", 1))
    assert placed.status_code == 201
    send_pending(store.ctx("notifications"))
    integrity = audit(databases(store))
    assert found(integrity) == {"cart_not_cleared": 1}
    [example] = integrity.examples["cart_not_cleared"]
    assert example["order_id"] == placed.get_json()["order_id"]
    assert example["customer_id"] == store.data.customers[8].id
    assert example["followup_state"] == "failed" and example["cart_customer_id"] is None


def test_a_pending_followup_is_in_flight_then_stuck_when_nobody_retries_it(store):
    shop_cleanly(store)
    down = cart_purchases_answer(connect_error)
    with store.transport("checkout", "cart", routed(store, "cart", down)):
        placed = cart_checkout(store, 9, "later-1", ("SKU-0031", 2))
    assert placed.status_code == 201
    send_pending(store.ctx("notifications"))
    integrity = audit(databases(store))
    assert integrity.clean and found(integrity) == {}
    [item] = integrity.in_flight
    assert item["order_id"] == placed.get_json()["order_id"]
    assert item["followups"] == ["clear_cart"] and not item["stuck"]
    assert item["customer_id"] == store.data.customers[9].id
    touched = newest(store, followups.c.updated_at, followups.c.state == "pending")
    assert found(audit(databases(store), now=touched + TAKEOVER_BOUND_S - 1)) == {}
    stuck = audit(databases(store), now=touched + TAKEOVER_BOUND_S + 1)
    assert found(stuck) == {"checkout_stuck": 1}
    assert stuck.examples["checkout_stuck"][0]["order_id"] == item["order_id"]
    recover(store.ctx("checkout"))  # the cart is back: the followup is done, the cart emptied
    assert audit(databases(store)).in_flight == []


def test_a_parked_checkout_is_in_flight_until_recovery_settles_it(store):
    shop_cleanly(store)
    unreachable = routed(store, "payment", _captures_and_voids_down)
    with store.transport("checkout", "payment", unreachable):
        parked = order(store, 11, "park-1", items=[{"sku": "SKU-0040", "quantity": 1}])
    assert parked.status_code == 503
    integrity = audit(databases(store))
    assert integrity.clean
    [item] = integrity.in_flight
    assert (item["attempt_state"], item["order_status"]) == ("needs_recovery", "capture_unknown")
    assert item["customer_id"] == store.data.customers[11].id and not item["stuck"]
    touched = newest(store, attempts.c.updated_at, attempts.c.state == "needs_recovery")
    stuck = audit(databases(store), now=touched + TAKEOVER_BOUND_S + 1)
    assert found(stuck) == {"checkout_stuck": 1}  # had the recovery loop stopped
    recover(store.ctx("checkout"))  # payment answers again: nothing was captured, it is undone
    settled = audit(databases(store))
    assert settled.clean and settled.in_flight == []
    assert found(settled) == {}


def _captures_and_voids_down(request: httpx.Request):
    if request.url.path.endswith(("/capture", "/void")):
        connect_error(request)
    return None


def test_a_running_checkout_without_heartbeat_is_stuck_past_the_bound(store):
    shop_cleanly(store)
    gateway = gateway_of(store.ctx("payment"))
    arrived, release = threading.Event(), threading.Event()

    def held(_seconds: float) -> None:
        arrived.set()
        release.wait(60)

    gateway.wait = held
    answers: list[int] = []
    buyer = threading.Thread(
        target=lambda: answers.append(
            order(store, 12, "run-1", items=[{"sku": "SKU-0041", "quantity": 1}]).status_code
        )
    )
    buyer.start()
    try:
        assert arrived.wait(60)
        running = audit(databases(store))
        [item] = running.in_flight
        assert (item["attempt_state"], item["step"]) == ("running", "authorize")
        assert running.clean and not item["stuck"]
        # No process beats a heartbeat here (the store runs no background threads): later than
        # the lease and a recovery round, nobody would be looking after it.
        touched = newest(store, attempts.c.updated_at, attempts.c.state == "running")
        stuck = audit(databases(store), now=touched + TAKEOVER_BOUND_S + 1)
        assert stuck.violations["checkout_stuck"] == 1
    finally:
        gateway.wait = lambda _s: None
        release.set()
        buyer.join(60)
    assert answers == [201]
    send_pending(store.ctx("notifications"))
    wait_for(lambda: audit(databases(store)).in_flight == [], "the checkout to finish")
    assert found(audit(databases(store))) == {}


def row(**values):
    return SimpleNamespace(**values)


def test_work_waiting_its_turn_is_not_stuck_but_work_nobody_retries_is():
    """Parked attempts are retried in batches, oldest first: an old one is only waiting while
    others of its kind were touched recently. Followups nobody touched for the bound, and an
    order still settling with nothing left to settle it, were left behind."""

    def attempt(order_id: str, customer_id: int, state: str, updated_at: float) -> SimpleNamespace:
        return row(
            order_id=order_id,
            customer_id=customer_id,
            state=state,
            updated_at=updated_at,
            step="capture",
        )

    snap = Snapshot(
        rows={
            "checkout_attempts": [
                attempt("o-old", 1, "needs_recovery", 10.0),
                attempt("o-new", 2, "needs_recovery", 95.0),
                attempt("o-gone", 4, "retryable", 20.0),
            ],
            "checkout_orders": [
                row(id="o-gone", customer_id=4, status="pending", total_cents=500, updated_at=20.0)
            ],
            "checkout_followups": [
                row(order_id="o-mail", kind="confirmation", state="pending", updated_at=50.0)
            ],
        },
        latest=None,
    )
    integrity = audit_snapshot(snap, now=100.0, takeover_bound_s=10.0)
    stuck = {item["order_id"]: item["stuck"] for item in integrity.in_flight}
    assert stuck == {"o-old": False, "o-new": False, "o-gone": True, "o-mail": True}
    assert integrity.violations == {"checkout_stuck": 2}
    assert [item["order_id"] for item in integrity.in_flight] == [
        "o-old",
        "o-gone",
        "o-mail",
        "o-new",
    ]  # oldest touched first


def newest(store, column, where) -> float:
    """The newest value of a checkout time column among the rows `where` selects."""
    with store.ctx("checkout").db.read() as conn:
        return float(conn.execute(sa.select(sa.func.max(column)).where(where)).scalar_one())
