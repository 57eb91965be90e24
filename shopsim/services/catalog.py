"""catalog: products and prices, behind a small read cache.

GET  /products?q=&category=&limit=&offset=   search, newest SKUs last
GET  /products/<sku>                          one product (404 unknown)
POST /prices {"skus": [...]}                  prices for a batch (404 names the unknown SKU)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Annotated, Any

from flask import Blueprint, Flask, jsonify, request
from prometheus_client import Counter
from pydantic import Field
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, select

from shopsim.context import ServiceContext, current
from shopsim.db import Database
from shopsim.errors import NotFound
from shopsim.faults.logic import Logic
from shopsim.faults.state import Faults
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import CACHE_LOOKUPS
from shopsim.seeddata import SeedData
from shopsim.validation import Model, Query, Sku, parse_body, parse_query

metadata = MetaData()
products = Table(
    "catalog_products",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=False),
    Column("category", String(50), nullable=False, index=True),
    Column("price_cents", Integer, nullable=False),
    Column("doorbuster", Boolean, nullable=False, default=False),
)


class ProductQuery(Query):
    q: Annotated[str, Field(max_length=100)] = ""
    category: Annotated[str, Field(max_length=50)] = ""
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0


class PricesRequest(Model):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=100)]


class ProductCache:
    """A tiny LRU with a time-to-live, counting hits and misses (and bypasses under cache_off)."""

    def __init__(self, size: int, ttl_s: float, lookups: Counter, faults: Faults) -> None:
        self._size, self._ttl = size, ttl_s
        self._items: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._faults = faults
        self._hit = lookups.labels("catalog", "hit")
        self._miss = lookups.labels("catalog", "miss")
        self._bypass = lookups.labels("catalog", "bypass")

    def get(self, sku: str, load: Any) -> dict[str, Any] | None:
        """The cached product for `sku`, loading it with `load(sku)` on a miss."""
        if self._faults.fires(Logic.CACHE_OFF):  # the known-bad path: no cache at all
            self._bypass.inc()
            return load(sku)
        now = time.monotonic()
        with self._lock:
            entry = self._items.get(sku)
            if entry and now - entry[0] < self._ttl:
                self._items.move_to_end(sku)
                self._hit.inc()
                return entry[1]
        self._miss.inc()
        value = load(sku)
        with self._lock:
            self._items[sku] = (now, value)
            self._items.move_to_end(sku)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


def _row(row: Any) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "name": row.name,
        "description": row.description,
        "category": row.category,
        "price_cents": row.price_cents,
        "doorbuster": bool(row.doorbuster),
    }


def _load(db: Database, sku: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(select(products).where(products.c.sku == sku)).first()
    return _row(row) if row else None


bp = Blueprint("catalog", __name__)


@bp.get("/products")
def list_products():  # type: ignore[no-untyped-def]
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
def get_product(sku: str):  # type: ignore[no-untyped-def]
    """One product, through the cache."""
    product = _cache().get(sku, lambda s: _load(current().db, s))
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", field="sku")
    return jsonify(product)


@bp.post("/prices")
def prices():  # type: ignore[no-untyped-def]
    """Current prices of a batch of SKUs."""
    body = parse_body(request, PricesRequest)
    ctx = current()
    out: dict[str, int] = {}
    for i, sku in enumerate(body.skus):
        product = _cache().get(sku, lambda s: _load(ctx.db, s))
        if product is None:
            raise NotFound(f"no product with SKU {sku!r}", field=f"skus[{i}]")
        out[sku] = product["price_cents"]
    return jsonify({"prices": out})


def _cache() -> ProductCache:
    return current().extras["catalog_cache"]  # type: ignore[no-any-return]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes and the product cache."""
    lookups = make(CACHE_LOOKUPS, ctx.metrics.registry)
    ctx.extras["catalog_cache"] = ProductCache(
        ctx.settings.catalog_cache_size, ctx.settings.catalog_cache_ttl_s, lookups, ctx.faults
    )
    app.register_blueprint(bp)


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
