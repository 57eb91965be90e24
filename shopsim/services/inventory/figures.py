"""Stock figures read on scrape: units reserved, and units oversold (promised beyond stock).

Oversold, per SKU, is ``reserved - on_hand`` where that is positive: holds granted beyond what
is on hand, and after such holds are committed the same number shows as on_hand below zero
(committing lowers both by the same amount). Summed over SKUs it is 0 while the invariant
0 <= reserved <= on_hand holds, so any value above 0 is an oversell.

Each figure is one aggregate over the small stock table, run through a raw DBAPI cursor:
SQLAlchemy's statement hooks do not run for it, so a db_slow fault neither delays the scrape
(which must answer within the sampler's timeout) nor has its seeded draws consumed by it, and
no pool wait is recorded for what no request waited on. A database that cannot answer makes
the figure NaN, never a failed scrape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import case, func, select

from shopsim.db import Database
from shopsim.services.inventory.tables import stock


def _sql(db: Database, total: Any) -> str:
    stmt = select(func.coalesce(total, 0)).select_from(stock)
    return str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))


def reader(db: Database, total: Any) -> Callable[[], float]:
    """A function returning the aggregate `total` over the stock table (NaN on failure)."""
    sql = _sql(db, total)

    def read() -> float:
        try:
            conn = db.engine.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(sql)
                row = cursor.fetchone()
                cursor.close()
            finally:
                conn.close()  # back to the pool, its transaction (if any) rolled back
            return float(row[0]) if row else 0.0
        except Exception:
            return float("nan")

    return read


def units_reserved(db: Database) -> Callable[[], float]:
    """Units held by reservations, summed over SKUs."""
    return reader(db, func.sum(stock.c.reserved))


def units_oversold(db: Database) -> Callable[[], float]:
    """Units promised beyond stock, summed over SKUs; 0 when healthy."""
    over = case((stock.c.reserved > stock.c.on_hand, stock.c.reserved - stock.c.on_hand), else_=0)
    return reader(db, func.sum(over))
