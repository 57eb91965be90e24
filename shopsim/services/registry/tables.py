"""registry's tables, and the one way a registry is looked up (for reads and for purchases).

registry_registries  one row per registry: owner, kind and title
registry_items       what a registry wishes for: wanted and purchased per SKU
registry_purchases   one row per order_id: the gift bought, its stored reply, its alert state
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Float, Integer, MetaData, String, Table, Text, select

from shopsim.errors import NotFound

MAX_ID = 2**31 - 1  # larger path ids cannot exist, and would overflow the database driver
SUMMARY = ("id", "kind", "title", "owner_customer_id", "owner_name")

metadata = MetaData()
registries = Table(
    "registry_registries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("owner_customer_id", Integer, nullable=False, index=True),
    Column("owner_name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)
items = Table(
    "registry_items",
    metadata,
    Column("registry_id", Integer, primary_key=True),
    Column("sku", String(32), primary_key=True),
    Column("wanted", Integer, nullable=False),
    Column("purchased", Integer, nullable=False, default=0),
)
purchases = Table(
    "registry_purchases",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("registry_id", Integer, nullable=False, index=True),
    Column("items", Text, nullable=False),  # JSON [{"sku","quantity"}] as requested
    Column("buyer_name", String(200), nullable=False),
    Column("alert_state", String(10), nullable=False, index=True),  # pending | sent
    Column("created_at", Float, nullable=False),
    Column("response_body", Text, nullable=False),  # replayed for the same order_id
)


def summary(row: Any) -> dict[str, Any]:
    """A registry row as search results show it."""
    return {key: getattr(row, key) for key in SUMMARY}


def find_registry(conn: Connection, registry_id: int) -> Any:
    """The registry row; 404 field "registry_id" when there is none."""
    row = None
    if registry_id <= MAX_ID:
        row = conn.execute(select(registries).where(registries.c.id == registry_id)).first()
    if row is None:
        raise NotFound(f"no registry {registry_id}", field="registry_id")
    return row
