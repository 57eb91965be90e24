"""inventory's tables: stock per SKU, and the reservations that hold some of it.

inventory_stock         one row per SKU: on_hand and the part of it reserved
inventory_reservations  one row per reservation_id: held -> committed | released | expired
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()
stock = Table(
    "inventory_stock",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, default=0),
)
reservations = Table(
    "inventory_reservations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("items", Text, nullable=False),  # JSON list of {"sku", "quantity"}, request order
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
# The sweeper looks for held reservations by deadline.
Index("inventory_reservations_due", reservations.c.status, reservations.c.expires_at)
