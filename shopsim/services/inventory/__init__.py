"""inventory: stock per SKU and all-or-nothing reservations that never oversell.

views    the routes (listed in its docstring)
state    what this process keeps in memory: its clock and outcome counters
holds    reserving, settling and viewing reservations under row locks
tables   the tables: stock and reservations

A reservation is held -> committed | released | expired. Every change of stock happens in one
transaction that first locks the stock rows (in SKU order; see `holds`), so
0 <= reserved <= on_hand holds under any concurrency. Only the oversell_race fault breaks this,
by switching reservations to `holds.reserve_unlocked` (check, then act, without a lock).
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from shopsim.context import ServiceContext
from shopsim.db import Database, HotRows
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import RESERVATIONS, UNITS_OVERSOLD, UNITS_RESERVED
from shopsim.metrics.catalogue.values import INVENTORY_OUTCOMES as OUTCOMES
from shopsim.seeddata import SeedData
from shopsim.services.inventory import state, views
from shopsim.services.inventory.figures import units_oversold, units_reserved
from shopsim.services.inventory.holds import find, settle
from shopsim.services.inventory.tables import metadata, reservations, stock

__all__ = [
    "HOT_ROWS",
    "metadata",
    "init_app",
    "load_seed",
    "expire_reservations",
    "reservations",
    "stock",
]

EXPIRY_BATCH = 1000
#: The rows a sale's writes contend for: the doorbusters' stock (what db_lock locks).
HOT_ROWS = HotRows(stock, stock.c.sku.like("DB-%"))


def expire_reservations(ctx: ServiceContext, now: float | None = None) -> int:
    """Expire held reservations past their deadline, returning their stock; returns how many."""
    now = views.clock(ctx) if now is None else now
    due_stmt = (
        select(reservations.c.id)
        .where(reservations.c.status == "held", reservations.c.expires_at <= now)
        .order_by(reservations.c.expires_at)
        .limit(EXPIRY_BATCH)
    )
    with ctx.db.read() as conn:
        due = conn.execute(due_stmt).scalars().all()
    expired = 0
    for rid in due:
        # One transaction each, so the sweeper never holds the write lock for long.
        with ctx.db.write() as conn:
            row = find(conn, rid)
            if row.status != "held":
                continue  # committed or released since the scan
            settle(conn, row, "expired", now)
        views.count_outcome(ctx, "expired")
        expired += 1
    return expired


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, the reservation counter, the stock gauges, the clock and the expiry sweeper."""
    counter = make(RESERVATIONS, ctx.metrics.registry)
    make(UNITS_RESERVED, ctx.metrics.registry).set_function(units_reserved(ctx.db))
    make(UNITS_OVERSOLD, ctx.metrics.registry).set_function(units_oversold(ctx.db))
    ctx.service_state = state.InventoryState(outcomes={o: counter.labels(o) for o in OUTCOMES})
    app.register_blueprint(views.bp)
    ctx.every(1.0, "expiry", lambda: expire_reservations(ctx))


def load_seed(db: Database, data: SeedData) -> None:
    """One stock row per seeded SKU, nothing reserved."""
    with db.write() as conn:
        conn.execute(
            stock.insert(),
            [{"sku": sku, "on_hand": on_hand, "reserved": 0} for sku, on_hand in data.stock],
        )
