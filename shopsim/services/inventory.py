"""inventory: stock per SKU and all-or-nothing reservations that never oversell.

GET  /stock/<sku>                       on hand, reserved, available
POST /reservations                      hold stock: {"reservation_id", "items", "ttl_s"?}
GET  /reservations/<rid>                one reservation
POST /reservations/<rid>/commit         the goods leave: on_hand and reserved both drop
POST /reservations/<rid>/release        the hold ends: reserved drops

A reservation is held -> committed | released | expired. Every change of stock happens in one
transaction that first locks the stock rows (in SKU order), so 0 <= reserved <= on_hand holds
under any concurrency.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

from flask import Blueprint, Flask, jsonify, request
from prometheus_client import Counter
from pydantic import Field, StringConstraints
from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shopsim.context import ServiceContext, current
from shopsim.db import Database
from shopsim.errors import Conflict, NotFound, Unprocessable
from shopsim.seed import SeedData
from shopsim.validation import Model, Quantity, Sku, parse_body

OUTCOMES = ("held", "insufficient", "committed", "released", "expired")
EXPIRY_BATCH = 1000
#: Ending a reservation that already ended: these statuses refuse (409 code); the others replay.
REFUSALS = {
    "committed": {"released": "reservation_released", "expired": "reservation_expired"},
    "released": {"committed": "reservation_committed"},
}

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


class Line(Model):
    sku: Sku
    quantity: Quantity


class ReserveRequest(Model):
    reservation_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    items: Annotated[list[Line], Field(min_length=1, max_length=50)]
    ttl_s: Annotated[float, Field(ge=1, le=3600)] | None = None


def _now(ctx: ServiceContext) -> float:
    return ctx.extras["inventory_clock"]()  # type: ignore[no-any-return]


def _count(ctx: ServiceContext, outcome: str) -> None:
    ctx.extras["inventory_outcomes"][outcome].inc()


def _view(row: Any) -> dict[str, Any]:
    return {
        "reservation_id": row.id,
        "status": row.status,
        "items": json.loads(row.items),
        "expires_at": row.expires_at,
    }


def _key(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((i["sku"], i["quantity"]) for i in items)


def _lock_stock(conn: Connection, skus: list[str]) -> dict[str, Any]:
    """The stock rows of `skus`, locked in SKU order so two writers cannot deadlock."""
    stmt = select(stock).where(stock.c.sku.in_(sorted(set(skus)))).order_by(stock.c.sku)
    return {row.sku: row for row in conn.execute(stmt.with_for_update())}


def _find(conn: Connection, rid: str, *, lock: bool = True) -> Any:
    """The reservation row (locked for writers); 404 when there is none."""
    stmt = select(reservations).where(reservations.c.id == rid)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound(f"no reservation {rid!r}", field="reservation_id")
    return row


def _hold(conn: Connection, items: list[dict[str, Any]]) -> None:
    """Reserve every item or none: 404 for an unknown SKU, 409 when one is short."""
    rows = _lock_stock(conn, [i["sku"] for i in items])
    for i, item in enumerate(items):
        if item["sku"] not in rows:
            raise NotFound(f"no stock record for SKU {item['sku']!r}", field=f"items[{i}].sku")
    for i, item in enumerate(items):
        row = rows[item["sku"]]
        available = row.on_hand - row.reserved
        if item["quantity"] > available:
            raise Conflict(
                f"only {available} of {item['sku']} available",
                field=f"items[{i}].quantity",
                code="insufficient_stock",
                extra={"sku": item["sku"], "available": available},
            )
    for item in sorted(items, key=lambda i: i["sku"]):
        conn.execute(
            stock.update()
            .where(stock.c.sku == item["sku"])
            .values(reserved=stock.c.reserved + item["quantity"])
        )


def _settle(conn: Connection, row: Any, status: str, now: float) -> None:
    """End a held reservation: committed goods leave the shelf, anything else frees the hold."""
    items = json.loads(row.items)
    _lock_stock(conn, [i["sku"] for i in items])
    for item in sorted(items, key=lambda i: i["sku"]):
        q = item["quantity"]
        values: dict[str, Any] = {"reserved": stock.c.reserved - q}
        if status == "committed":
            values["on_hand"] = stock.c.on_hand - q
        conn.execute(stock.update().where(stock.c.sku == item["sku"]).values(**values))
    conn.execute(
        reservations.update()
        .where(reservations.c.id == row.id)
        .values(status=status, updated_at=now)
    )


def _reserve(
    conn: Connection, rid: str, items: list[dict[str, Any]], ttl_s: float, now: float
) -> tuple[bool, dict[str, Any]]:
    """(created, reservation): a known id with the same items is replayed, not held twice."""
    row = conn.execute(select(reservations).where(reservations.c.id == rid)).first()
    if row is not None:
        if _key(json.loads(row.items)) == _key(items):
            return False, _view(row)
        raise Conflict(
            f"reservation {rid!r} exists with different items",
            field="reservation_id",
            code="idempotency_key_reused",
        )
    _hold(conn, items)
    expires_at = now + ttl_s
    values = {"status": "held", "items": json.dumps(items), "expires_at": expires_at}
    conn.execute(reservations.insert().values(id=rid, created_at=now, updated_at=now, **values))
    return True, {"reservation_id": rid, "status": "held", "items": items, "expires_at": expires_at}


def _transact(ctx: ServiceContext, work: Callable[[Connection], Any]) -> Any:
    """Run `work` in one write transaction, once more if a concurrent insert won a race."""
    for attempt in range(2):
        try:
            with ctx.db.write() as conn:
                return work(conn)
        except IntegrityError:
            # Two requests with one new reservation_id (PostgreSQL): the retry replays the winner.
            if attempt:
                raise
    raise AssertionError("unreachable")


bp = Blueprint("inventory", __name__)


@bp.get("/stock/<sku>")
def get_stock(sku: str):  # type: ignore[no-untyped-def]
    """Stock of one SKU."""
    with current().db.read() as conn:
        row = conn.execute(select(stock).where(stock.c.sku == sku)).first()
    if row is None:
        raise NotFound(f"no stock record for SKU {sku!r}", field="sku")
    available = row.on_hand - row.reserved
    return jsonify(
        {"sku": row.sku, "on_hand": row.on_hand, "reserved": row.reserved, "available": available}
    )


@bp.post("/reservations")
def create_reservation():  # type: ignore[no-untyped-def]
    """Hold stock for every item, or for none."""
    body = parse_body(request, ReserveRequest)
    seen: set[str] = set()
    for i, line in enumerate(body.items):
        if line.sku in seen:
            raise Unprocessable(
                f"{line.sku} appears twice", field=f"items[{i}].sku", code="duplicate_sku"
            )
        seen.add(line.sku)
    ctx = current()
    items = [{"sku": line.sku, "quantity": line.quantity} for line in body.items]
    ttl_s = body.ttl_s if body.ttl_s is not None else ctx.settings.reservation_ttl_s
    now = _now(ctx)
    try:
        created, view = _transact(
            ctx, lambda conn: _reserve(conn, body.reservation_id, items, ttl_s, now)
        )
    except Conflict as exc:
        if exc.code == "insufficient_stock":
            _count(ctx, "insufficient")
        raise
    if created:
        _count(ctx, "held")
    return jsonify(view), 201 if created else 200


@bp.get("/reservations/<rid>")
def get_reservation(rid: str):  # type: ignore[no-untyped-def]
    """One reservation as stored."""
    with current().db.read() as conn:
        return jsonify(_view(_find(conn, rid, lock=False)))


@bp.post("/reservations/<rid>/commit")
def commit_reservation(rid: str):  # type: ignore[no-untyped-def]
    """Turn a hold into a sale; committing twice is a no-op."""
    return jsonify(_end(current(), rid, "committed"))


@bp.post("/reservations/<rid>/release")
def release_reservation(rid: str):  # type: ignore[no-untyped-def]
    """Give a hold back; releasing a released or expired reservation is a no-op."""
    return jsonify(_end(current(), rid, "released"))


def _end(ctx: ServiceContext, rid: str, target: str) -> dict[str, Any]:
    """Move a held reservation to `target`; a reservation already ended is replayed or refused."""
    now = _now(ctx)

    def work(conn: Connection) -> tuple[str | None, dict[str, Any]]:
        row = _find(conn, rid)
        if row.status != "held":
            refusal = REFUSALS[target].get(row.status)
            if refusal:
                raise Conflict(f"{rid!r} is {row.status}", field="reservation_id", code=refusal)
            return None, _view(row)
        # Past its deadline but not swept yet: it expires now, whatever the sweeper's timing.
        outcome = "expired" if target == "committed" and row.expires_at <= now else target
        _settle(conn, row, outcome, now)
        return outcome, {**_view(row), "status": outcome}

    outcome, view = _transact(ctx, work)
    if outcome:
        _count(ctx, outcome)
    if outcome == "expired":
        code = REFUSALS[target]["expired"]
        raise Conflict(f"{rid!r} is expired", field="reservation_id", code=code)
    return view  # type: ignore[no-any-return]


def expire_reservations(ctx: ServiceContext, now: float | None = None) -> int:
    """Expire held reservations past their deadline, returning their stock; returns how many."""
    now = _now(ctx) if now is None else now
    due_stmt = (
        select(reservations.c.id)
        .where(reservations.c.status == "held", reservations.c.expires_at <= now)
        .order_by(reservations.c.expires_at)
        .limit(EXPIRY_BATCH)
    )
    with ctx.db.read() as conn:
        due = conn.execute(due_stmt).scalars().all()
    expired = 0
    for rid in due:
        # One transaction each, so the sweeper never holds the write lock for long.
        with ctx.db.write() as conn:
            row = _find(conn, rid)
            if row.status != "held":
                continue  # committed or released since the scan
            _settle(conn, row, "expired", now)
        _count(ctx, "expired")
        expired += 1
    return expired


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, the reservation counter, the clock and the expiry sweeper."""
    counter = Counter(
        "shopsim_inventory_reservations",
        "Reservation outcomes: held, refused for insufficient stock, committed, released, expired.",
        ["outcome"],
        registry=ctx.metrics.registry,
    )
    ctx.extras["inventory_outcomes"] = {o: counter.labels(o) for o in OUTCOMES}
    # Tests may swap the clock to move time instead of sleeping.
    ctx.extras.setdefault("inventory_clock", time.time)
    app.register_blueprint(bp)
    ctx.every(1.0, "expiry", lambda: expire_reservations(ctx))


def load_seed(db: Database, data: SeedData) -> None:
    """One stock row per seeded SKU, nothing reserved."""
    with db.write() as conn:
        conn.execute(
            stock.insert(),
            [{"sku": sku, "on_hand": on_hand, "reserved": 0} for sku, on_hand in data.stock],
        )
