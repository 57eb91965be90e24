"""catalog: products and prices, behind a small read cache.

views    the routes (the list is in its docstring)
state    what this process keeps in memory: the product cache
cache    the cache itself, a small LRU with a time-to-live
tables   the products table
"""

from __future__ import annotations

from flask import Flask

from shopsim.context import ServiceContext
from shopsim.db import Database
from shopsim.seeddata import SeedData
from shopsim.services.catalog import state, views
from shopsim.services.catalog.tables import metadata, products

__all__ = ["init_app", "load_seed", "metadata", "products"]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes and the product cache."""
    ctx.service_state = state.CatalogState.build(ctx)
    app.register_blueprint(views.bp)


def load_seed(db: Database, data: SeedData) -> None:
    """Insert the seed's products."""
    with db.write() as conn:
        conn.execute(
            products.insert(),
            [
                {
                    "sku": p.sku,
                    "name": p.name,
                    "description": p.description,
                    "category": p.category,
                    "price_cents": p.price_cents,
                    "doorbuster": p.doorbuster,
                }
                for p in data.products
            ],
        )
