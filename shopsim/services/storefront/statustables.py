"""The status page's tables and what is read from and written to them (Statuspage's model).

Components (browse, cart, checkout, gift registry, order emails) each have a status; a
component without a row is operational, so a fresh or reseeded store reads "all systems
operational". Incidents carry an impact, the components they affect, and updates, each update
with its incident status (investigating, identified, monitoring, resolved). The tables live in
the storefront's database beside its customers (same MetaData), so seeding resets them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, Text, select

from shopsim.db import Database
from shopsim.errors import Conflict, NotFound

from .customers import metadata

#: Component key -> the name customers read.
COMPONENTS = {
    "browse": "Browse",
    "cart": "Cart",
    "checkout": "Checkout",
    "gift_registry": "Gift registry",
    "order_emails": "Order emails",
}
#: Component statuses, best first (Statuspage's names).
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage")
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
IMPACTS = ("none", "minor", "major", "critical")
#: What the page headline says for the worst component status.
HEADLINES = {
    "operational": "All systems operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}

components = Table(
    "storefront_status_components",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("status", String(40), nullable=False),
    Column("updated_at", Float, nullable=False),
)
incidents = Table(
    "storefront_status_incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("status", String(40), nullable=False),
    Column("impact", String(20), nullable=False),
    Column("components", String(200), nullable=False),  # comma-separated component keys
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("resolved_at", Float, nullable=True),
)
updates = Table(
    "storefront_status_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey(incidents.c.id), nullable=False, index=True),
    Column("status", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)


def iso(at: float | None) -> str | None:
    """Unix time -> ISO 8601 in UTC (None stays None)."""
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def worst(statuses: list[str]) -> str:
    """The worst of some component statuses ('operational' for none)."""
    return max(statuses, key=COMPONENT_STATUSES.index, default="operational")


def read_page(db: Database, limit: int = 20) -> dict[str, Any]:
    """The whole status page as /api/status answers it: components, then incidents (newest
    first, each with its updates newest first)."""
    with db.read() as conn:
        rows = {r.name: r for r in conn.execute(select(components))}
        found = conn.execute(
            select(incidents).order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
        ).fetchall()[:limit]
        ids = [i.id for i in found]
        posted = (
            conn.execute(
                select(updates)
                .where(updates.c.incident_id.in_(ids))
                .order_by(updates.c.created_at.desc(), updates.c.id.desc())
            ).fetchall()
            if ids
            else []
        )
    comps = [
        {
            "name": key,
            "title": title,
            "status": rows[key].status if key in rows else "operational",
            "updated_at": iso(rows[key].updated_at) if key in rows else None,
        }
        for key, title in COMPONENTS.items()
    ]
    overall = worst([str(c["status"]) for c in comps])
    return {
        "status": {"indicator": overall, "description": HEADLINES[overall]},
        "components": comps,
        "incidents": [_incident(i, [u for u in posted if u.incident_id == i.id]) for i in found],
    }


def _incident(row: Any, posted: list[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "impact": row.impact,
        "components": [c for c in row.components.split(",") if c],
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "resolved_at": iso(row.resolved_at),
        "updates": [
            {"status": u.status, "body": u.body, "created_at": iso(u.created_at) or ""}
            for u in posted
        ],
    }


def set_components(conn: Any, statuses: Mapping[str, str], at: float) -> None:
    """Set some components' statuses (within a caller's transaction)."""
    for name, status in statuses.items():
        conn.execute(components.delete().where(components.c.name == name))
        conn.execute(components.insert().values(name=name, status=status, updated_at=at))


def open_incident(
    db: Database,
    *,
    name: str,
    status: str,
    impact: str,
    message: str,
    statuses: Mapping[str, str],
) -> int:
    """Open an incident with its first update; set its components. Returns its id."""
    now = time.time()
    with db.write() as conn:
        result = conn.execute(
            incidents.insert().values(
                name=name,
                status=status,
                impact=impact,
                components=",".join(statuses),
                created_at=now,
                updated_at=now,
                resolved_at=now if status == "resolved" else None,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # an insert into a table with a primary key
        incident_id = int(key[0])
        conn.execute(
            updates.insert().values(
                incident_id=incident_id, status=status, body=message, created_at=now
            )
        )
        set_components(conn, statuses, now)
    return incident_id


def post_update(
    db: Database, incident_id: int, *, status: str, message: str, statuses: Mapping[str, str]
) -> None:
    """Add an update to an open incident. Resolving puts its components back to operational
    unless `statuses` says otherwise. 404 for no such incident, 409 once it is resolved."""
    now = time.time()
    with db.write() as conn:
        row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
        if row is None:
            raise NotFound(f"no incident with id {incident_id}", field="incident_id")
        if row.status == "resolved":
            raise Conflict(
                f"incident {incident_id} is resolved: open a new one", code="incident_resolved"
            )
        named = [c for c in row.components.split(",") if c]
        named += [c for c in statuses if c not in named]
        if status == "resolved":
            statuses = {c: "operational" for c in named} | dict(statuses)
        conn.execute(
            incidents.update()
            .where(incidents.c.id == incident_id)
            .values(
                status=status,
                components=",".join(named),
                updated_at=now,
                resolved_at=now if status == "resolved" else None,
            )
        )
        conn.execute(
            updates.insert().values(
                incident_id=incident_id, status=status, body=message, created_at=now
            )
        )
        set_components(conn, statuses, now)


def set_component(db: Database, name: str, status: str) -> None:
    """Set one component's status."""
    with db.write() as conn:
        set_components(conn, {name: status}, time.time())


def clear_page(db: Database) -> None:
    """Forget every incident and put every component back to operational."""
    with db.write() as conn:
        for table in (updates, incidents, components):
            conn.execute(table.delete())
