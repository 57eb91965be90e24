"""The audit's checks of money and stock: charges against orders, the gateway's ledger against
its idempotency store, stock against what was sold and held.

How an order and its money link (from the saga and the gateway): an order's id is fixed by the
customer's idempotency key, every authorization and charge the saga makes for it carries that
id as its ``reference``, and the gateway stores each capture's answer (with its ``charge_id``)
under the Idempotency-Key it was asked with, in the same transaction as the charge.
Each check is a pure function of a `Snapshot`, filling in `Findings`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from shopsim.verdict.findings import (
    AUTHORIZATION_OPEN,
    CHARGE_AMOUNT_MISMATCH,
    CHARGE_WITHOUT_ORDER,
    DUPLICATE_CHARGE,
    EXPIRED_HOLD,
    ORDER_WITHOUT_CHARGE,
    OVERSOLD,
    RESERVED_MISMATCH,
    UNACCOUNTED_CHARGE,
    Findings,
)
from shopsim.verdict.snapshot import Snapshot

#: Order statuses whose money is still being settled by the saga or its recovery.
SETTLING = ("pending", "capture_unknown")
#: The inventory's sweeper expires due reservations every second; five rounds of slack.
EXPIRY_GRACE_S = 5.0


def _charge(c: Any) -> dict[str, Any]:
    return {
        "charge_id": c.id,
        "amount_cents": c.amount_cents,
        "authorization_id": c.authorization_id,
    }


def check_charges(snap: Snapshot, found: Findings) -> None:
    """Every charge belongs to one confirmed order, once, for its total; every confirmed order
    has its charge."""
    orders = {o.id: o for o in snap["checkout_orders"]}
    by_order: dict[str, list[Any]] = defaultdict(list)
    for c in sorted(snap["payment_charges"], key=lambda c: (c.created_at, c.id)):
        by_order[c.reference].append(c)
    for order_id in sorted(by_order):
        charges, order = by_order[order_id], orders.get(order_id)
        customer = order.customer_id if order is not None else None
        if len(charges) > 1:
            found.add(
                DUPLICATE_CHARGE,
                {
                    "order_id": order_id,
                    "customer_id": customer,
                    "charges": [_charge(c) for c in charges],
                    "overcharged_cents": sum(c.amount_cents for c in charges[1:]),
                },
            )
        if order is None or order.status == "failed":
            for c in charges:
                example = _charge(c) | {"order_id": order_id, "customer_id": customer}
                found.add(CHARGE_WITHOUT_ORDER, example | {"order_status": _status(order)})
        elif order.status == "confirmed":
            for c in charges:
                if c.amount_cents != order.total_cents:
                    example = _charge(c) | {"order_id": order_id, "customer_id": customer}
                    found.add(CHARGE_AMOUNT_MISMATCH, example | {"total_cents": order.total_cents})
    for order_id, order in sorted(orders.items()):
        if order.status == "confirmed" and order_id not in by_order:
            found.add(
                ORDER_WITHOUT_CHARGE,
                {
                    "order_id": order_id,
                    "customer_id": order.customer_id,
                    "total_cents": order.total_cents,
                    "authorization_id": order.authorization_id,
                },
            )


def _status(order: Any) -> str | None:
    return None if order is None else str(order.status)


def check_ledger(snap: Snapshot, found: Findings) -> None:
    """Each charge is the stored answer of exactly one capture under an Idempotency-Key, and
    each stored capture answer names a charge the ledger holds: money moved at most once per
    key, and never outside the at-most-once path."""
    named: dict[str, str] = {}
    for row in snap["payment_idempotency"]:
        if row.state != "done" or not row.response_body:
            continue
        try:
            answer = json.loads(row.response_body)
        except ValueError:
            continue
        if isinstance(answer, dict) and answer.get("status") == "captured":
            named[str(answer.get("charge_id"))] = row.key
    ledger = {c.id: c for c in snap["payment_charges"]}
    for charge_id, c in sorted(ledger.items()):
        if charge_id not in named:
            example = _charge(c) | {"order_id": c.reference}
            found.add(UNACCOUNTED_CHARGE, example | {"problem": "no stored capture answer"})
    for charge_id, key in sorted(named.items()):
        if charge_id not in ledger:
            example = {"charge_id": charge_id, "idempotency_key": key}
            found.add(UNACCOUNTED_CHARGE, example | {"problem": "not in the ledger"})


def check_authorizations(snap: Snapshot, found: Findings) -> None:
    """Notice authorizations left holding money after their checkout ended."""
    orders = {o.id: o for o in snap["checkout_orders"]}
    for a in sorted(snap["payment_authorizations"], key=lambda a: a.id):
        order = orders.get(a.reference)
        if a.status != "authorized" or (order is not None and order.status in SETTLING):
            continue
        found.add(
            AUTHORIZATION_OPEN,
            {
                "authorization_id": a.id,
                "order_id": a.reference,
                "customer_id": order.customer_id if order is not None else None,
                "order_status": _status(order),
                "amount_cents": a.amount_cents,
            },
        )


def held_units(snap: Snapshot) -> Counter[str]:
    """Units per SKU that held reservations hold."""
    units: Counter[str] = Counter()
    for r in snap["inventory_reservations"]:
        for item in json.loads(r.items):
            units[item["sku"]] += int(item["quantity"])
    return units


def check_stock(snap: Snapshot, found: Findings) -> None:
    """No SKU sold or held beyond what it had; reserved counts match the holds."""
    units = held_units(snap)
    for s in sorted(snap["inventory_stock"], key=lambda s: s.sku):
        beyond = s.reserved - s.on_hand
        if s.on_hand < 0 or beyond > 0:
            found.add(
                OVERSOLD,
                {
                    "sku": s.sku,
                    "on_hand": s.on_hand,
                    "reserved": s.reserved,
                    "oversold_units": max(beyond, 0),
                },
            )
        if s.reserved != units[s.sku]:
            found.add(
                RESERVED_MISMATCH,
                {"sku": s.sku, "reserved": s.reserved, "held_units": units[s.sku]},
            )


def check_holds(snap: Snapshot, found: Findings) -> None:
    """No reservation still holds stock after its expiry plus the sweeper's grace."""
    cutoff = found.now - found.expiry_grace_s
    due = [r for r in snap["inventory_reservations"] if r.expires_at < cutoff]
    for r in sorted(due, key=lambda r: (r.expires_at, r.id)):
        found.add(
            EXPIRED_HOLD,
            {
                "reservation_id": r.id,
                "items": json.loads(r.items),
                "expired_s_ago": found.age_s(r.expires_at),
            },
        )


def oversold_units(snap: Snapshot) -> int:
    """Units sold or held beyond the stock there was, over every SKU."""
    return sum(max(s.reserved - s.on_hand, 0) for s in snap["inventory_stock"])
