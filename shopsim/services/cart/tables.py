"""cart's tables: a line per customer and SKU, and the orders already taken out once."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table

MAX_LINES = 50  # different products in one cart

metadata = MetaData()
lines = Table(
    "cart_lines",
    metadata,
    Column("customer_id", Integer, primary_key=True),
    Column("sku", String(32), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
)

purchases = Table(
    "cart_purchases",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer_id", Integer, nullable=False),
    Column("applied_at", Float, nullable=False),
)
