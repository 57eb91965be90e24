"""The audit's checks of checkouts as work: carts emptied after orders, and every half-done
checkout either finished, undone, or still being looked after.

Half-done, from checkout's own rows: an attempt ``running`` (a live process beats a heartbeat
into it every second) or ``needs_recovery`` (parked; the recovery loop retries it every 2 s, a
batch at a time), an order ``pending`` or ``capture_unknown``, a followup ``pending`` (retried
by the same loop). A process that dies stops beating, and 5 s later (the lease) the next
recovery round takes its attempt over. So a running attempt untouched for longer than
TAKEOVER_BOUND_S was left behind. Parked attempts and pending followups are retried in batches,
oldest first, so one may wait its turn for a while: they are left behind only when none of
their kind was touched within the bound (the loop itself stopped).
"""

from __future__ import annotations

from typing import Any

from shopsim.verdict.findings import CART_NOT_CLEARED, CHECKOUT_STUCK, Findings
from shopsim.verdict.snapshot import Snapshot

#: The lease (5 s after the last heartbeat) plus the recovery loop's period (2 s), with slack
#: for a busy machine: longer untouched than this, a half-done checkout was left behind.
TAKEOVER_BOUND_S = 10.0
IN_FLIGHT_ATTEMPTS = ("running", "needs_recovery")
SETTLING_ORDERS = ("pending", "capture_unknown")


def check_carts(snap: Snapshot, found: Findings) -> None:
    """Every confirmed order from the cart took its lines out of its buyer's cart (or is still
    trying to: a pending clear_cart followup is in flight)."""
    applied = {p.order_id: p for p in snap["cart_purchases"]}
    clears = {f.order_id: f for f in snap["checkout_followups"] if f.kind == "clear_cart"}
    for order in sorted(snap["checkout_orders"], key=lambda o: o.id):
        if order.status != "confirmed" or not order.from_cart:
            continue
        taken = applied.get(order.id)
        if taken is not None and taken.customer_id == order.customer_id:
            continue
        followup = clears.get(order.id)
        if taken is None and followup is not None and followup.state == "pending":
            continue  # in flight
        found.add(
            CART_NOT_CLEARED,
            {
                "order_id": order.id,
                "customer_id": order.customer_id,
                "followup_state": None if followup is None else followup.state,
                "followup_error": None if followup is None else followup.last_error,
                "cart_customer_id": None if taken is None else taken.customer_id,
            },
        )


def check_in_flight(snap: Snapshot, found: Findings) -> None:
    """List every half-done checkout; count those left behind past the takeover bound."""
    entries: dict[str, dict[str, Any]] = {}
    touched: dict[str, list[tuple[str, float]]] = {}  # order id -> (part, updated_at)

    def entry(order_id: str, customer_id: int | None) -> dict[str, Any]:
        touched.setdefault(order_id, [])
        return entries.setdefault(
            order_id,
            {
                "order_id": order_id,
                "customer_id": customer_id,
                "attempt_state": None,
                "step": None,
                "order_status": None,
                "total_cents": None,
                "followups": [],
            },
        )

    for a in snap["checkout_attempts"]:
        if a.state in IN_FLIGHT_ATTEMPTS:
            entry(a.order_id, a.customer_id).update(attempt_state=a.state, step=a.step)
            touched[a.order_id].append((a.state, a.updated_at))
    for o in snap["checkout_orders"]:
        if o.status in SETTLING_ORDERS:
            entry(o.id, o.customer_id).update(order_status=o.status, total_cents=o.total_cents)
            touched[o.id].append(("order", o.updated_at))
    orders = {o.id: o for o in snap["checkout_orders"]}
    for f in sorted(snap["checkout_followups"], key=lambda f: (f.order_id, f.kind)):
        if f.state == "pending":
            order = orders.get(f.order_id)
            entry(f.order_id, order.customer_id if order else None)["followups"].append(f.kind)
            touched[f.order_id].append(("followup", f.updated_at))
    # The newest touch per retried kind: if it is recent, the loop that retries them runs.
    newest: dict[str, float] = {}
    for parts in touched.values():
        for part, at in parts:
            newest[part] = max(newest.get(part, at), at)
    for order_id in sorted(entries, key=lambda k: (max(at for _, at in touched[k]), k)):
        parts = touched[order_id]
        last = max(at for _, at in parts)
        item = entries[order_id] | {"age_s": found.age_s(last)}
        item["stuck"] = _left_behind(parts, newest, found.now - found.takeover_bound_s)
        found.in_flight.append(item)
        if item["stuck"]:
            found.add(CHECKOUT_STUCK, item)


def _left_behind(parts: list[tuple[str, float]], newest: dict[str, float], cutoff: float) -> bool:
    """Whether nothing looks after this checkout any more (see the module docstring)."""
    kinds = {part for part, _ in parts}
    last = max(at for _, at in parts)
    if last >= cutoff:
        return False
    if "running" in kinds:
        return True  # no heartbeat, and nobody took it over
    retried = [part for part in ("needs_recovery", "followup") if part in kinds]
    if retried:
        return all(newest[part] < cutoff for part in retried)
    return True  # an order still settling with no attempt or followup to settle it
