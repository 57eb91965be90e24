"""storefront: the edge customers use. JSON API under /api, HTML pages, and the dog page.

customers.py   its own table, storefront_customers (the only state it keeps)
shop.py        what the API and the pages both do, on catalog, cart, registry and checkout
api.py         the JSON API and its request models
openapi.py     the OpenAPI 3.1 document, built from those request models
pages.py       server-rendered pages (templates in shopsim/templates)
session.py     sign-in by customer id, remembered in a cookie
errorpages.py  the one place a page failure becomes the dog page or a "sorry" page
status.py      the status page (read by all, written on the operator port); statustables.py

The other services keep their routes in one views.py. The storefront serves three audiences
with four blueprints, each with its own error handling: programs (api.py: JSON errors, a
503 with an incident reference), browsers (pages.py: the dog page) and operators (status.py:
writes on the side port only). One views.py would be some 680 lines; a views/ package would
only rename the three. So each of api.py, pages.py and status.py is this service's views.py
for its audience, its route list in its docstring (api.py's is the OpenAPI table).
"""

from __future__ import annotations

from flask import Flask

from shopsim.context import ServiceContext

from . import api, errorpages, pages, state, status
from .customers import load_seed, metadata
from .openapi import build_document

__all__ = ["init_app", "load_seed", "metadata"]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, the error-page counter, and the OpenAPI document (built once)."""
    ctx.service_state = state.StorefrontState(
        error_pages=errorpages.make_counter(ctx), openapi=build_document()
    )
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(status.public)
    app.register_blueprint(status.operator)
