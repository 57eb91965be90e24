"""catalog's routes: products and prices, behind a small read cache.

GET  /products?q=&category=&limit=&offset=   search, newest SKUs last
GET  /products/<sku>                          one product (404 unknown)
POST /prices {"skus": [...]}                  prices for a batch (404 names the unknown SKU)
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import Field
from sqlalchemy import bindparam, select

from shopsim.context import current
from shopsim.db import Database
from shopsim.errors import NotFound
from shopsim.services.catalog import state
from shopsim.services.catalog.tables import products
from shopsim.validation import Model, Query, Sku, parse_body, parse_query


class ProductQuery(Query):
    q: Annotated[str, Field(max_length=100)] = ""
    category: Annotated[str, Field(max_length=50)] = ""
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0


class PricesRequest(Model):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=100)]


def _row(row: Any) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "name": row.name,
        "description": row.description,
        "category": row.category,
        "price_cents": row.price_cents,
        "doorbuster": bool(row.doorbuster),
    }


#: Built once (a cache miss of every product read): see storefront/customers.py's _BY_ID.
_BY_SKU = select(products).where(products.c.sku == bindparam("sku"))


def _load(db: Database, sku: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(_BY_SKU, {"sku": sku}).first()
    return _row(row) if row else None


bp = Blueprint("catalog", __name__)


@bp.get("/products")
def list_products() -> Response:
    """Search products by text and category."""
    query = parse_query(request.args, ProductQuery)
    stmt = select(products).order_by(products.c.sku)
    if query.q:
        pattern = f"%{query.q.lower()}%"
        stmt = stmt.where(products.c.name.ilike(pattern) | products.c.description.ilike(pattern))
    if query.category:
        stmt = stmt.where(products.c.category == query.category)
    with current().db.read() as conn:
        rows = conn.execute(stmt.limit(query.limit + 1).offset(query.offset)).fetchall()
    return jsonify(
        {
            "products": [_row(r) for r in rows[: query.limit]],
            "more": len(rows) > query.limit,
        }
    )


@bp.get("/products/<sku>")
def get_product(sku: str) -> Response:
    """One product, through the cache."""
    product = state.of(current()).cache.get(sku, lambda s: _load(current().db, s))
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", field="sku")
    return jsonify(product)


@bp.post("/prices")
def prices() -> Response:
    """Current prices of a batch of SKUs."""
    body = parse_body(request, PricesRequest)
    ctx = current()
    out: dict[str, int] = {}
    for i, sku in enumerate(body.skus):
        product = state.of(ctx).cache.get(sku, lambda s: _load(ctx.db, s))
        if product is None:
            raise NotFound(f"no product with SKU {sku!r}", field=f"skus[{i}]")
        out[sku] = product["price_cents"]
    return jsonify({"prices": out})
