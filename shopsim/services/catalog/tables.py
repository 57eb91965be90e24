"""catalog's table: the products and their prices."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

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
