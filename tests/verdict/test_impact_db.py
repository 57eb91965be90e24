"""Customer impact from the databases: orders and revenue, failed checkouts by reason and what
they were worth, wrong mail, double charges, oversold units."""

from __future__ import annotations

import sqlalchemy as sa

from shopsim.services.catalog import products
from shopsim.services.checkout.tables import orders
from shopsim.services.inventory.tables import stock
from shopsim.services.notifications import send_pending
from shopsim.verdict.impact_db import impact_facts
from tests.conftest import refusing
from tests.faults.conftest import add_fault, reset_faults
from tests.verdict.shop import (
    cart_checkout,
    connect_error,
    databases,
    fill_cart,
    gift,
    order,
    routed,
    shop_cleanly,
)

ALWAYS = {"duration_s": 60.0, "probability": 1.0}


def totals(store, status: str) -> tuple[int, int]:
    """(orders, cents) of the orders with `status`."""
    with store.ctx("checkout").db.read() as conn:
        rows = conn.execute(sa.select(orders.c.total_cents).where(orders.c.status == status))
        cents = [r.total_cents for r in rows]
    return len(cents), sum(cents)


def line(sku: str, quantity: int) -> list[dict[str, object]]:
    return [{"sku": sku, "quantity": quantity}]


def price(store, sku: str) -> int:
    with store.ctx("catalog").db.read() as conn:
        stmt = sa.select(products.c.price_cents).where(products.c.sku == sku)
        return int(conn.execute(stmt).scalar_one())


def test_a_clean_store_has_its_orders_and_one_declined_card(store):
    shop_cleanly(store)
    facts = impact_facts(databases(store))
    confirmed, revenue = totals(store, "confirmed")
    _, declined = totals(store, "failed")
    assert (facts.confirmed_orders, facts.revenue_dollars) == (5, revenue / 100)
    assert facts.failed_checkouts == 1 and facts.failed_by_reason == {"card_declined": 1}
    assert facts.customers_affected == 1
    assert facts.revenue_failed_dollars == facts.revenue_lost_dollars == declined / 100
    assert (facts.unpriced_failures, facts.unpriced_estimate_dollars) == (0, 0.0)
    assert (facts.wrong_mail_recipients, facts.wrong_mails) == (0, 0)
    assert (facts.overcharged_customers, facts.overcharged_dollars) == (0, 0.0)
    assert facts.oversold_units == 0


def test_failed_checkouts_are_valued_once_per_basket_and_not_when_bought_later(store):
    payment_down = routed(store, "payment", connect_error)
    with store.transport("checkout", "payment", payment_down):
        # customer 14 fails twice on one basket and gives up; customer 15 fails, then buys it
        for key in ("a-1", "a-2"):
            assert (
                order(store, 14, key, items=[{"sku": "SKU-0070", "quantity": 2}]).status_code == 503
            )
        assert (
            order(store, 15, "b-1", items=[{"sku": "SKU-0071", "quantity": 1}]).status_code == 503
        )
    assert order(store, 15, "b-2", items=[{"sku": "SKU-0071", "quantity": 1}]).status_code == 201
    with store.transport("checkout", "cart", refusing()):  # fails before anything is priced
        fill_cart(store, 16, ("SKU-0072", 3))
        assert order(store, 16, "c-1").status_code == 503
        assert order(store, 17, "c-2").status_code == 503  # an empty cart: nothing to value
    send_pending(store.ctx("notifications"))
    facts = impact_facts(databases(store))
    p70, p71, p72 = (price(store, f"SKU-00{n}") for n in (70, 71, 72))
    assert facts.failed_checkouts == 5
    assert facts.failed_by_reason == {"before_order": 2, "dependency_failed": 3}
    assert facts.customers_affected == 4
    assert facts.revenue_failed_dollars == (2 * 2 * p70 + p71) / 100
    assert facts.revenue_lost_dollars == 2 * p70 / 100  # one basket lost; 15 bought theirs
    assert facts.unpriced_failures == 2
    assert facts.unpriced_estimate_dollars == 3 * p72 / 100
    assert facts.unpriced_valued_customers == 1
    assert (facts.confirmed_orders, facts.revenue_dollars) == (1, p71 / 100)


def test_misfired_gift_alerts_are_mail_to_the_wrong_people(store):
    shop_cleanly(store)
    add_fault(store, {"type": "notification_misfire", "target": "notifications"} | ALWAYS)
    try:
        assert gift(store, "mis-1", registry_index=2).status_code == 201
        send_pending(store.ctx("notifications"))
    finally:
        reset_faults(store)
    facts = impact_facts(databases(store))
    assert facts.wrong_mails == facts.wrong_mail_recipients == len(store.data.customers) - 1


def test_double_charges_are_what_customers_overpaid(store):
    add_fault(store, {"type": "duplicate_charge", "target": "checkout"} | ALWAYS)
    try:
        placed = [
            cart_checkout(store, 18, "dup-1", ("SKU-0080", 1)),
            cart_checkout(store, 19, "dup-2", ("SKU-0081", 2)),
        ]
    finally:
        reset_faults(store)
    facts = impact_facts(databases(store))
    assert facts.overcharged_customers == 2
    paid_twice = sum(r.get_json()["total_cents"] for r in placed)
    assert facts.overcharged_dollars == paid_twice / 100
    assert facts.revenue_dollars == paid_twice / 100  # the revenue booked once


def test_oversold_units_and_unread_facts(store):
    with store.ctx("inventory").db.write() as conn:
        conn.execute(stock.update().where(stock.c.sku == "DB-0003").values(on_hand=-2))
    facts = impact_facts(databases(store) | {"payment": None, "notifications": None})
    assert facts.oversold_units == 2
    assert facts.overcharged_dollars is None and facts.wrong_mails is None
    assert facts.confirmed_orders == 0
