"""cart: one cart per customer, a line per SKU, SKUs checked against the catalog.

views    the routes (the list is in its docstring)
state    what this process keeps in memory: its operation counters
tables   the tables: lines and the orders already taken out
"""

from __future__ import annotations

from flask import Flask

from shopsim.context import ServiceContext
from shopsim.services.cart import state, views
from shopsim.services.cart.tables import lines, metadata, purchases

__all__ = ["init_app", "lines", "metadata", "purchases"]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes and the cart operation counter."""
    ctx.service_state = state.CartState.build(ctx)
    app.register_blueprint(views.bp)
