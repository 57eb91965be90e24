"""Customer impact as the services' databases record it: the database half of `impact`.

    impact_facts(manifest["databases"]) -> ImpactFacts

A failed checkout is a customer idempotency key whose last answer was a failure: its attempt
ended ``retryable`` (a 503 after everything was undone, and the customer did not come back with
the key) or ``done`` with an error (a decline). Sold-out and other refusals before anything was
held leave no row, by design, and are not failures of the store. Checkouts still half-done are
in flight (see the audit), not failed. A checkout that never reached the checkout service (the
storefront's breaker open, a 503 from admission control, a timeout before it) leaves no row
anywhere: count failures on the client side; these facts explain and value the ones checkout
saw.

Money, in dollars:
- revenue: the confirmed orders' totals.
- revenue_failed: the failed checkouts' order totals, each failed key once (a failure after the
  order was priced has an order row with its total and lines).
- revenue_lost: the same failed orders, counting each customer's basket (registry and lines)
  once, and not when that customer confirmed the same basket later: sales that did not happen.
- A checkout that failed before its order row was written (cart, catalog or registry did not
  answer) has no price on record: counted in `unpriced_failures`, and valued, as an estimate, at
  what its customer's cart holds at the end at catalog prices, each customer once
  (`unpriced_estimate`, over `unpriced_valued_customers`). A customer who bought later has an
  emptier cart, so that estimate leans low, never high.
A fact whose tables could not be read is None.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shopsim.verdict.audit_mail import wrong_confirmations, wrong_gift_alerts
from shopsim.verdict.audit_money import oversold_units
from shopsim.verdict.snapshot import Snapshot, load

CHECKOUT = ("checkout_attempts", "checkout_orders", "checkout_order_items")
FAILED_BEFORE_ORDER = "before_order"  # the reason of a failure that left no order row


@dataclass(frozen=True)
class ImpactFacts:
    """What customers lived through, from the data (dollars rounded to cents)."""

    confirmed_orders: int | None
    revenue_dollars: float | None
    failed_checkouts: int | None
    failed_by_reason: dict[str, int] | None
    customers_affected: int | None
    revenue_failed_dollars: float | None
    revenue_lost_dollars: float | None
    unpriced_failures: int | None
    unpriced_estimate_dollars: float | None
    unpriced_valued_customers: int | None
    wrong_mail_recipients: int | None
    wrong_mails: int | None
    overcharged_customers: int | None
    overcharged_dollars: float | None
    oversold_units: int | None


def impact_facts(databases: Mapping[str, str | None]) -> ImpactFacts:
    """Read the databases (read-only, see `snapshot`) and derive the impact facts."""
    return facts(load(databases))


def facts(snap: Snapshot) -> ImpactFacts:
    """The impact facts of a snapshot."""
    checkout = _checkouts(snap) if snap.has(*CHECKOUT) else {}
    mail = _mail(snap)
    money = _overcharges(snap) if snap.has("checkout_orders", "payment_charges") else {}
    stock = oversold_units(snap) if snap.has("inventory_stock") else None
    return ImpactFacts(
        confirmed_orders=checkout.get("confirmed_orders"),
        revenue_dollars=checkout.get("revenue_dollars"),
        failed_checkouts=checkout.get("failed_checkouts"),
        failed_by_reason=checkout.get("failed_by_reason"),
        customers_affected=checkout.get("customers_affected"),
        revenue_failed_dollars=checkout.get("revenue_failed_dollars"),
        revenue_lost_dollars=checkout.get("revenue_lost_dollars"),
        unpriced_failures=checkout.get("unpriced_failures"),
        unpriced_estimate_dollars=checkout.get("unpriced_estimate_dollars"),
        unpriced_valued_customers=checkout.get("unpriced_valued_customers"),
        wrong_mail_recipients=mail.get("wrong_mail_recipients"),
        wrong_mails=mail.get("wrong_mails"),
        overcharged_customers=money.get("overcharged_customers"),
        overcharged_dollars=money.get("overcharged_dollars"),
        oversold_units=stock,
    )


def _dollars(cents: int) -> float:
    return round(cents / 100, 2)


def failed(attempt: Any) -> bool:
    """Whether an attempt row's last answer to its customer was a failure."""
    if attempt.state == "retryable":
        return True
    return attempt.state == "done" and (attempt.response_status or 0) >= 400


def reason(order: Any, attempt: Any) -> str:
    """Why a checkout failed: the code its order recorded ("card_declined", ...)."""
    if order is None:
        status = attempt.response_status
        return FAILED_BEFORE_ORDER if status is None else f"status_{status}"
    text = order.failure_reason or "unknown"
    return str(text.split(":", 1)[0].strip() or "unknown")


def _checkouts(snap: Snapshot) -> dict[str, Any]:
    orders = {o.id: o for o in snap["checkout_orders"]}
    lines: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for item in snap["checkout_order_items"]:
        lines[item.order_id].append((item.sku, item.quantity))
    confirmed = [o for o in orders.values() if o.status == "confirmed"]
    # (customer, basket) -> when it was last bought, to tell a failure later made good
    bought: dict[tuple[Any, ...], float] = {}
    for o in confirmed:
        basket = (o.customer_id, o.registry_id, tuple(sorted(lines[o.id])))
        bought[basket] = max(bought.get(basket, o.created_at), o.created_at)
    by_reason: dict[str, int] = defaultdict(int)
    customers: set[int] = set()
    failed_cents = lost_cents = 0
    lost_baskets: set[Any] = set()
    unpriced: list[int] = []
    for a in sorted(snap["checkout_attempts"], key=lambda a: (a.created_at, a.order_id)):
        if not failed(a):
            continue
        order = orders.get(a.order_id)
        by_reason[reason(order, a)] += 1
        customers.add(a.customer_id)
        if order is None:
            unpriced.append(a.customer_id)
            continue
        failed_cents += order.total_cents
        basket = (order.customer_id, order.registry_id, tuple(sorted(lines[order.id])))
        if basket in lost_baskets or bought.get(basket, 0.0) > order.created_at:
            continue
        lost_baskets.add(basket)
        lost_cents += order.total_cents
    estimate, valued = _carts_value(snap, set(unpriced))
    return {
        "confirmed_orders": len(confirmed),
        "revenue_dollars": _dollars(sum(o.total_cents for o in confirmed)),
        "failed_checkouts": sum(by_reason.values()),
        "failed_by_reason": dict(sorted(by_reason.items())),
        "customers_affected": len(customers),
        "revenue_failed_dollars": _dollars(failed_cents),
        "revenue_lost_dollars": _dollars(lost_cents),
        "unpriced_failures": len(unpriced),
        "unpriced_estimate_dollars": estimate,
        "unpriced_valued_customers": valued,
    }


def _carts_value(snap: Snapshot, customers: set[int]) -> tuple[float | None, int | None]:
    """What `customers`' carts hold at the end at catalog prices, and how many hold anything."""
    if not customers:
        return 0.0, 0
    if not snap.has("cart_lines", "catalog_products"):
        return None, None
    prices = {p.sku: p.price_cents for p in snap["catalog_products"]}
    cents: dict[int, int] = defaultdict(int)
    for line in snap["cart_lines"]:
        if line.customer_id in customers:
            cents[line.customer_id] += line.quantity * prices.get(line.sku, 0)
    return _dollars(sum(cents.values())), len(cents)


def _mail(snap: Snapshot) -> dict[str, int]:
    """Mail sent to the wrong people: gift alerts and order confirmations."""
    needs = ("notifications_mail_sink", "notifications_registry_subscriptions")
    if not snap.has(*needs, "registry_registries", "registry_purchases", "checkout_orders"):
        return {}
    wrong = wrong_gift_alerts(snap) + wrong_confirmations(snap)
    return {
        "wrong_mail_recipients": len({m.recipient_customer_id for m in wrong}),
        "wrong_mails": len(wrong),
    }


def _overcharges(snap: Snapshot) -> dict[str, Any]:
    """Customers charged more than once for one checkout, and what the extra charges took."""
    orders = {o.id: o for o in snap["checkout_orders"]}
    by_order: dict[str, list[Any]] = defaultdict(list)
    for c in snap["payment_charges"]:
        by_order[c.reference].append(c)
    customers: set[Any] = set()
    extra = 0
    for order_id, charges in by_order.items():
        if len(charges) < 2:
            continue
        order = orders.get(order_id)
        customers.add(order.customer_id if order is not None else order_id)
        charges.sort(key=lambda c: (c.created_at, c.id))
        extra += sum(c.amount_cents for c in charges[1:])
    return {"overcharged_customers": len(customers), "overcharged_dollars": _dollars(extra)}
