"""inventory's routes: stock per SKU and all-or-nothing reservations that never oversell.

GET  /stock/<sku>                       on hand, reserved, available
POST /reservations                      hold stock: {"reservation_id", "items", "ttl_s"?}
GET  /reservations/<rid>                one reservation
POST /reservations/<rid>/commit         the goods leave: on_hand and reserved both drop
POST /reservations/<rid>/release        the hold ends: reserved drops
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, jsonify, request
from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.engine import Connection

from shopsim.context import ServiceContext, current
from shopsim.errors import Conflict, NotFound
from shopsim.faults.logic import Logic
from shopsim.services.inventory import state
from shopsim.services.inventory.holds import (
    find,
    reserve,
    reserve_unlocked,
    settle,
    transact,
    view,
)
from shopsim.services.inventory.tables import stock
from shopsim.validation import Line, Model, distinct_skus, parse_body

#: Ending a reservation that already ended: these statuses refuse (409 code); the others replay.
REFUSALS = {
    "committed": {"released": "reservation_released", "expired": "reservation_expired"},
    "released": {"committed": "reservation_committed"},
}


class ReserveRequest(Model):
    reservation_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    items: Annotated[list[Line], Field(min_length=1, max_length=50)]
    ttl_s: Annotated[float, Field(ge=1, le=3600)] | None = None


def clock(ctx: ServiceContext) -> float:
    return state.of(ctx).clock()


def count_outcome(ctx: ServiceContext, outcome: str) -> None:
    state.of(ctx).outcomes[outcome].inc()


bp = Blueprint("inventory", __name__)


@bp.get("/stock/<sku>")
def get_stock(sku: str) -> Response:
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
def create_reservation() -> tuple[Response, int]:
    """Hold stock for every item, or for none."""
    body = parse_body(request, ReserveRequest)
    distinct_skus(body.items)
    ctx = current()
    items = [{"sku": line.sku, "quantity": line.quantity} for line in body.items]
    ttl_s = body.ttl_s if body.ttl_s is not None else ctx.settings.reservation_ttl_s
    now = clock(ctx)
    try:
        if race := ctx.faults.fires(Logic.OVERSELL_RACE):  # the known-bad check-then-act
            window_s = race.params.window_ms / 1000.0
            created, answer = reserve_unlocked(
                ctx, body.reservation_id, items, ttl_s, now, window_s
            )
        else:
            created, answer = transact(
                ctx, lambda conn: reserve(conn, body.reservation_id, items, ttl_s, now)
            )
    except Conflict as exc:
        if exc.code == "insufficient_stock":
            count_outcome(ctx, "insufficient")
        raise
    if created:
        count_outcome(ctx, "held")
    return jsonify(answer), 201 if created else 200


@bp.get("/reservations/<rid>")
def get_reservation(rid: str) -> Response:
    """One reservation as stored."""
    with current().db.read() as conn:
        return jsonify(view(find(conn, rid, lock=False)))


@bp.post("/reservations/<rid>/commit")
def commit_reservation(rid: str) -> Response:
    """Turn a hold into a sale; committing twice is a no-op."""
    return jsonify(_end(current(), rid, "committed"))


@bp.post("/reservations/<rid>/release")
def release_reservation(rid: str) -> Response:
    """Give a hold back; releasing a released or expired reservation is a no-op."""
    return jsonify(_end(current(), rid, "released"))


def _end(ctx: ServiceContext, rid: str, target: str) -> dict[str, Any]:
    """Move a held reservation to `target`; a reservation already ended is replayed or refused."""
    now = clock(ctx)

    def work(conn: Connection) -> tuple[str | None, dict[str, Any]]:
        row = find(conn, rid)
        if row.status != "held":
            refusal = REFUSALS[target].get(row.status)
            if refusal:
                raise Conflict(f"{rid!r} is {row.status}", field="reservation_id", code=refusal)
            return None, view(row)
        # Past its deadline but not swept yet: it expires now, whatever the sweeper's timing.
        outcome = "expired" if target == "committed" and row.expires_at <= now else target
        settle(conn, row, outcome, now)
        return outcome, {**view(row), "status": outcome}

    outcome, answer = transact(ctx, work)
    if outcome:
        count_outcome(ctx, outcome)
    if outcome == "expired":
        code = REFUSALS[target]["expired"]
        raise Conflict(f"{rid!r} is expired", field="reservation_id", code=code)
    return answer
