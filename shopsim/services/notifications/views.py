"""notifications' routes: the outbox's intake, the mail sink, contacts and subscriptions.

POST /messages                {"event_id","template","recipient"?,"registry_id"?,"data"?} -> 202
GET  /outbox                  {"depth","oldest_age_s"}
GET  /mail?template=&customer_id=&event_id=&limit=   the mail sink, oldest first
POST /contacts                {"customer_id","email","first_name"} (upsert)
POST /registry-subscriptions  {"registry_id","customer_id"} (idempotent)

The event_id is the idempotency key: the same event again is answered with the first result,
the same event with another payload is 409. `send_pending` (see `sender`) runs every
settings.outbox_poll_s. `Outbox` (see `outbox`) is the outbox as its faults may write to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from shopsim.context import current
from shopsim.db import Database
from shopsim.errors import Conflict, Unprocessable
from shopsim.services.notifications.models import (
    DATA_MODELS,
    REQUIRED,
    Contact,
    MailQuery,
    MessageRequest,
    Subscription,
)
from shopsim.services.notifications.outbox import queue
from shopsim.services.notifications.sender import (
    of as notifier_of,
)
from shopsim.services.notifications.sender import (
    outbox_depth,
    outbox_oldest_age_s,
)
from shopsim.services.notifications.tables import contacts, mail_sink, messages
from shopsim.services.notifications.tables import registry_subscriptions as subscriptions
from shopsim.validation import parse_body, parse_model, parse_query

T = TypeVar("T")


def _write(db: Database, change: Callable[[Connection], T]) -> T:
    """Run a select-then-insert in one transaction, once more if a concurrent insert won."""
    for attempt in range(2):
        try:
            with db.write() as conn:
                return change(conn)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


bp = Blueprint("notifications", __name__)


@bp.post("/messages")
def enqueue() -> tuple[Response, int]:
    """Put a message in the outbox, once per event_id."""
    body = parse_body(request, MessageRequest)
    required = REQUIRED[body.template]
    if getattr(body, required) is None:
        raise Unprocessable(f"{required} is required for {body.template}", field=required)
    parse_model(DATA_MODELS[body.template], body.data, prefix="data")
    payload = body.model_dump(mode="json")
    request_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    ctx = current()

    def change(conn: Connection) -> tuple[int, str]:
        stmt = select(messages.c.id, messages.c.request_hash)
        row = conn.execute(stmt.where(messages.c.event_id == body.event_id)).first()
        if row is not None:
            if row.request_hash != request_hash:
                raise Conflict(
                    f"event {body.event_id!r} was enqueued with a different payload",
                    field="event_id",
                    code="idempotency_key_reused",
                )
            return 200, row.id
        return 202, queue(conn, body.event_id, body.template, json.dumps(payload), request_hash)

    status, message_id = _write(ctx.db, change)
    if status == 202:
        notifier_of(ctx).enqueued.labels(body.template).inc()
    return jsonify({"message_id": message_id, "status": "queued"}), status


@bp.get("/outbox")
def outbox() -> Response:
    """How far behind the sender is."""
    db = current().db
    return jsonify({"depth": outbox_depth(db), "oldest_age_s": outbox_oldest_age_s(db)})


@bp.get("/mail")
def mail() -> Response:
    """The mail sink, oldest first: what was sent to whom."""
    query = parse_query(request.args, MailQuery)
    stmt = select(mail_sink).order_by(mail_sink.c.id).limit(query.limit)
    if query.template is not None:
        stmt = stmt.where(mail_sink.c.template == query.template)
    if query.customer_id is not None:
        stmt = stmt.where(mail_sink.c.recipient_customer_id == query.customer_id)
    if query.event_id is not None:
        stmt = stmt.where(mail_sink.c.event_id == query.event_id)
    with current().db.read() as conn:
        rows = conn.execute(stmt).all()
    return jsonify({"mail": [dict(r._mapping) for r in rows]})


@bp.post("/contacts")
def upsert_contact() -> tuple[Response, int]:
    """Create or replace a customer's contact details: 201 when new, 200 when replaced."""
    body = parse_body(request, Contact)
    values = body.model_dump()

    def change(conn: Connection) -> int:
        where = contacts.c.customer_id == body.customer_id
        found = conn.execute(select(contacts.c.customer_id).where(where).with_for_update())
        if found.first() is None:
            conn.execute(contacts.insert().values(**values))
            return 201
        conn.execute(update(contacts).where(where).values(**values))
        return 200

    return jsonify(values), _write(current().db, change)


@bp.post("/registry-subscriptions")
def subscribe() -> tuple[Response, int]:
    """Subscribe a customer to a registry's gift alerts: 201 when new, 200 when already so."""
    body = parse_body(request, Subscription)
    values = body.model_dump()

    def change(conn: Connection) -> int:
        found = conn.execute(
            select(subscriptions.c.registry_id).where(
                subscriptions.c.registry_id == body.registry_id,
                subscriptions.c.customer_id == body.customer_id,
            )
        )
        if found.first() is not None:
            return 200
        conn.execute(subscriptions.insert().values(**values))
        return 201

    return jsonify(values), _write(current().db, change)
