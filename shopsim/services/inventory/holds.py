"""Stock transactions: holding, settling and replaying reservations on one connection.

Every function here runs inside a write transaction the caller opened, and locks the stock rows
it touches in SKU order first, so two writers cannot deadlock and 0 <= reserved <= on_hand holds
under any concurrency. The one exception is `reserve_unlocked`, the known-bad variant the
oversell_race fault switches to (shopsim/faults/types/oversell_race.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from shopsim.context import ServiceContext
from shopsim.errors import Conflict, NotFound
from shopsim.services.inventory.tables import reservations, stock

T = TypeVar("T")


def view(row: Any) -> dict[str, Any]:
    """A reservation row as the API answers it."""
    return {
        "reservation_id": row.id,
        "status": row.status,
        "items": json.loads(row.items),
        "expires_at": row.expires_at,
    }


def _key(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((i["sku"], i["quantity"]) for i in items)


def lock_stock(conn: Connection, skus: list[str]) -> dict[str, Any]:
    """The stock rows of `skus`, locked in SKU order so two writers cannot deadlock."""
    stmt = select(stock).where(stock.c.sku.in_(sorted(set(skus)))).order_by(stock.c.sku)
    return {row.sku: row for row in conn.execute(stmt.with_for_update())}


def find(conn: Connection, rid: str, *, lock: bool = True) -> Any:
    """The reservation row (locked for writers); 404 when there is none."""
    stmt = select(reservations).where(reservations.c.id == rid)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound(f"no reservation {rid!r}", field="reservation_id")
    return row


def hold(conn: Connection, items: list[dict[str, Any]]) -> None:
    """Reserve every item or none: 404 for an unknown SKU, 409 when one is short."""
    rows = lock_stock(conn, [i["sku"] for i in items])
    _check(rows, items)
    _add_reserved(conn, items)


def _check(rows: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """404 for an SKU without a stock row, 409 for an item more than its SKU has available."""
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


def _add_reserved(conn: Connection, items: list[dict[str, Any]]) -> None:
    for item in sorted(items, key=lambda i: i["sku"]):
        conn.execute(
            stock.update()
            .where(stock.c.sku == item["sku"])
            .values(reserved=stock.c.reserved + item["quantity"])
        )


def settle(conn: Connection, row: Any, status: str, now: float) -> None:
    """End a held reservation: committed goods leave the shelf, anything else frees the hold."""
    items = json.loads(row.items)
    lock_stock(conn, [i["sku"] for i in items])
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


def reserve(
    conn: Connection, rid: str, items: list[dict[str, Any]], ttl_s: float, now: float
) -> tuple[bool, dict[str, Any]]:
    """(created, reservation): a known id with the same items is replayed, not held twice."""
    row = conn.execute(select(reservations).where(reservations.c.id == rid)).first()
    if row is not None:
        return False, _replay(row, rid, items)
    hold(conn, items)
    return True, _insert(conn, rid, items, ttl_s, now)


def reserve_unlocked(
    ctx: ServiceContext,
    rid: str,
    items: list[dict[str, Any]],
    ttl_s: float,
    now: float,
    window_s: float,
) -> tuple[bool, dict[str, Any]]:
    """The known-bad `reserve` (fault oversell_race): check, wait `window_s`, then act.

    The availability check reads unlocked rows in a short read transaction of its own; the
    write transaction that follows adds to `reserved` without checking again. Buyers racing
    for the last units all pass the check on the same stale numbers, and all get a hold.
    """
    with ctx.db.read() as conn:
        row = conn.execute(select(reservations).where(reservations.c.id == rid)).first()
        if row is not None:
            return False, _replay(row, rid, items)
        found = conn.execute(select(stock).where(stock.c.sku.in_({i["sku"] for i in items})))
        _check({r.sku: r for r in found}, items)
    time.sleep(window_s)

    def act(conn: Connection) -> tuple[bool, dict[str, Any]]:
        row = conn.execute(select(reservations).where(reservations.c.id == rid)).first()
        if row is not None:  # idempotency still holds; only the stock check is stale
            return False, _replay(row, rid, items)
        _add_reserved(conn, items)
        return True, _insert(conn, rid, items, ttl_s, now)

    return transact(ctx, act)


def _replay(row: Any, rid: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored reservation when `items` match it; 409 when the id was used for others."""
    if _key(json.loads(row.items)) == _key(items):
        return view(row)
    raise Conflict(
        f"reservation {rid!r} exists with different items",
        field="reservation_id",
        code="idempotency_key_reused",
    )


def _insert(
    conn: Connection, rid: str, items: list[dict[str, Any]], ttl_s: float, now: float
) -> dict[str, Any]:
    expires_at = now + ttl_s
    values = {"status": "held", "items": json.dumps(items), "expires_at": expires_at}
    conn.execute(reservations.insert().values(id=rid, created_at=now, updated_at=now, **values))
    return {"reservation_id": rid, "status": "held", "items": items, "expires_at": expires_at}


def transact(ctx: ServiceContext, work: Callable[[Connection], T]) -> T:
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
