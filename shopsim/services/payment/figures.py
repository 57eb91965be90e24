"""The ledger's health, read on scrape: order references charged more than once.

Each charge row names the order it pays for (`reference`). Two captured charges for one
reference mean a customer paid twice for one order; payment itself keeps one charge per
authorization, so a second charge comes from a second authorization the caller asked for. Read
through a raw DBAPI cursor (no statement hooks: a db_slow fault neither delays the scrape nor
draws from its seeded decisions); NaN when the database cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from shopsim.db import Database
from shopsim.services.payment.tables import charges


def references_charged_twice(db: Database) -> Callable[[], float]:
    """A function returning how many references have more than one charge."""
    repeated = (
        select(charges.c.reference)
        .group_by(charges.c.reference)
        .having(func.count() > 1)
        .subquery()
    )
    stmt = select(func.count()).select_from(repeated)
    sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))

    def read() -> float:
        try:
            conn = db.engine.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(sql)
                row = cursor.fetchone()
                cursor.close()
            finally:
                conn.close()
            return float(row[0]) if row else 0.0
        except Exception:
            return float("nan")

    return read
