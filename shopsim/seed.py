"""Seeding: every service's tables reset to its part of the seed data.

`apply(settings, data)` hands each service (from the table in shopsim.services) its part of
`generate(seed)` (shopsim.seeddata); each service replaces its own rows, so seeding twice gives
the same database as seeding once.
"""

from __future__ import annotations

from sqlalchemy import func, select

from shopsim.db import Database, clear, drop
from shopsim.seeddata import SeedData, generate
from shopsim.services import SERVICES
from shopsim.settings import Settings

__all__ = ["SeedData", "apply", "generate"]  # generate and SeedData re-exported for callers


def apply(settings: Settings, data: SeedData, *, fresh: bool = False) -> dict[str, int]:
    """Reset every service's tables and write its part of the seed; returns rows per table.

    `fresh` drops the tables first, so they are built anew (identity counters included).
    """
    written: dict[str, int] = {}
    for name, spec in SERVICES.items():
        db = Database(settings.database_url(name), spec.metadata, pool_size=1)
        try:
            if fresh:
                drop(db)
            db.create_all()
            clear(db)
            if spec.load_seed is not None:
                spec.load_seed(db, data)
            with db.read() as conn:
                for table in spec.metadata.sorted_tables:
                    count = select(func.count()).select_from(table)
                    written[table.name] = conn.execute(count).scalar_one()
        finally:
            db.dispose()
    return written
