"""payment's routes: a fake card gateway with realistic latency and Stripe-style idempotency keys.

POST /authorizations               {"amount_cents","currency","card_token","reference"} -> 201
POST /authorizations/<id>/capture  {} or no body -> 200, one row in the charges ledger
POST /authorizations/<id>/void     {} or no body -> 200 (voiding twice is fine)
GET  /authorizations/<id>          one authorization
GET  /charges?reference=&limit=    the ledger, oldest first (for audits)

Every POST goes through `gateway.gateway_operation`: it needs an Idempotency-Key (see
`idempotency`) and, when it does the work, first waits one simulated card-network round trip:
payment_latency_ms +- uniform jitter.
Test tokens: "tok_decline" and "tok_insufficient_funds" are declined; any other "tok_..." passes.
Fault switch points: `_injected_decline` (payment_decline) and `_hold_answer`
(gateway_timeout_after_capture); both are a dict lookup while no fault is active. A held answer
waits on its fault: removing it (or a reset, or its expiry) lets the answer go at once.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any, Literal

from flask import Blueprint, Response, after_this_request, jsonify, request
from pydantic import Field, StringConstraints
from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError

from shopsim.context import current
from shopsim.errors import Conflict, NotFound, PaymentRequired
from shopsim.faults.logic import Logic
from shopsim.services.payment.gateway import gateway_operation
from shopsim.services.payment.tables import authorizations, charges
from shopsim.validation import Model, Query, parse_query

#: Test card tokens that the gateway declines, and the code each gets.
DECLINES = {"tok_decline": "card_declined", "tok_insufficient_funds": "insufficient_funds"}

Amount = Annotated[int, Field(ge=1, le=100_000_000)]
CardToken = Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9_-]{0,100}$")]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class AuthorizeRequest(Model):
    amount_cents: Amount
    currency: Literal["USD"]
    card_token: CardToken
    reference: Reference


class NoParameters(Model):
    """Capture and void take nothing but the path: {} or an empty body."""


class ChargesQuery(Query):
    reference: Annotated[str, Field(max_length=100)] = ""
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


def _locked(conn: Connection, authorization_id: str) -> Row[Any]:
    """The authorization, row-locked on PostgreSQL, or 404."""
    stmt = select(authorizations).where(authorizations.c.id == authorization_id)
    row = conn.execute(stmt.with_for_update()).first()
    if row is None:
        raise NotFound(f"no authorization {authorization_id!r}", field="authorization_id")
    return row


def _charge_id(conn: Connection, authorization_id: str) -> str | None:
    stmt = select(charges.c.id).where(charges.c.authorization_id == authorization_id)
    return conn.execute(stmt).scalar_one_or_none()


def _already_captured(conn: Connection, authorization_id: str) -> Conflict:
    return Conflict(
        f"authorization {authorization_id!r} is already captured",
        field="authorization_id",
        code="already_captured",
        extra={"charge_id": _charge_id(conn, authorization_id)},
    )


def _injected_decline() -> str | None:
    """payment_decline: the decline code of an active fault firing on this authorization."""
    decline = current().faults.fires(Logic.PAYMENT_DECLINE)
    return decline.params.code if decline else None


def _hold_answer() -> None:
    """gateway_timeout_after_capture: the capture is committed, its answer leaves hang_s late."""
    hang = current().faults.fires(Logic.GATEWAY_TIMEOUT_AFTER_CAPTURE)
    if hang is None:
        return

    @after_this_request
    def _late(response: Response) -> Response:
        # Runs once the work and its idempotency record are committed: a retry under the same
        # key is replayed at once, and a void finds the authorization captured.
        hang.hold(hang.params.hang_s)
        return response


def _set_status(conn: Connection, authorization_id: str, status: str) -> None:
    conn.execute(
        update(authorizations)
        .where(authorizations.c.id == authorization_id)
        .values(status=status, updated_at=time.time())
    )


bp = Blueprint("payment", __name__)


@bp.post("/authorizations")
@gateway_operation("authorize", AuthorizeRequest)
def authorize(conn: Connection, body: AuthorizeRequest) -> tuple[int, dict[str, Any]]:
    """Hold an amount on a card; the test tokens in DECLINES are declined with 402."""
    code = DECLINES.get(body.card_token) or _injected_decline()
    if code is not None:
        raise PaymentRequired(f"the card was declined ({code})", field="card_token", code=code)
    now = time.time()
    authorization_id = "auth_" + secrets.token_hex(12)
    conn.execute(
        authorizations.insert().values(
            id=authorization_id,
            status="authorized",
            amount_cents=body.amount_cents,
            currency=body.currency,
            reference=body.reference,
            card_kind=body.card_token.removeprefix("tok_") or "card",
            created_at=now,
            updated_at=now,
        )
    )
    return 201, {
        "authorization_id": authorization_id,
        "status": "authorized",
        "amount_cents": body.amount_cents,
        "currency": body.currency,
        "reference": body.reference,
    }


@bp.post("/authorizations/<authorization_id>/capture")
@gateway_operation("capture", NoParameters, body_optional=True)
def capture(
    conn: Connection, body: NoParameters, authorization_id: str
) -> tuple[int, dict[str, Any]]:
    """Take the held amount: exactly one row in the charges ledger per authorization."""
    auth = _locked(conn, authorization_id)
    if auth.status == "voided":
        raise Conflict(
            f"authorization {authorization_id!r} was voided",
            field="authorization_id",
            code="authorization_voided",
        )
    if auth.status == "captured":
        raise _already_captured(conn, authorization_id)
    charge_id = "ch_" + secrets.token_hex(12)
    try:
        with conn.begin_nested():  # a savepoint, so the backstop's failure can be answered
            conn.execute(
                charges.insert().values(
                    id=charge_id,
                    authorization_id=authorization_id,
                    amount_cents=auth.amount_cents,
                    reference=auth.reference,
                    created_at=time.time(),
                )
            )
    except IntegrityError:
        # The ledger already holds a charge the authorization's status does not show.
        raise _already_captured(conn, authorization_id) from None
    _set_status(conn, authorization_id, "captured")
    _hold_answer()
    return 200, {
        "authorization_id": authorization_id,
        "status": "captured",
        "charge_id": charge_id,
        "amount_cents": auth.amount_cents,
        "reference": auth.reference,
    }


@bp.post("/authorizations/<authorization_id>/void")
@gateway_operation("void", NoParameters, body_optional=True)
def void(conn: Connection, body: NoParameters, authorization_id: str) -> tuple[int, dict[str, Any]]:
    """Release the hold; voiding a voided authorization again is fine, a captured one is not."""
    auth = _locked(conn, authorization_id)
    if auth.status == "captured":
        raise _already_captured(conn, authorization_id)
    if auth.status == "authorized":
        _set_status(conn, authorization_id, "voided")
    return 200, {
        "authorization_id": authorization_id,
        "status": "voided",
        "amount_cents": auth.amount_cents,
        "reference": auth.reference,
    }


@bp.get("/authorizations/<authorization_id>")
def get_authorization(authorization_id: str) -> Response:
    """One authorization, with its charge once captured."""
    with current().db.read() as conn:
        stmt = select(authorizations).where(authorizations.c.id == authorization_id)
        row = conn.execute(stmt).first()
        if row is None:
            raise NotFound(f"no authorization {authorization_id!r}", field="authorization_id")
        charge_id = _charge_id(conn, authorization_id)
    return jsonify(
        {
            "authorization_id": row.id,
            "status": row.status,
            "amount_cents": row.amount_cents,
            "currency": row.currency,
            "reference": row.reference,
            "charge_id": charge_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


@bp.get("/charges")
def list_charges() -> Response:
    """The charges ledger, oldest first, optionally for one reference."""
    query = parse_query(request.args, ChargesQuery)
    stmt = select(charges).order_by(charges.c.created_at, charges.c.id).limit(query.limit)
    if query.reference:
        stmt = stmt.where(charges.c.reference == query.reference)
    with current().db.read() as conn:
        rows = conn.execute(stmt).all()
    return jsonify(
        {
            "charges": [
                {
                    "charge_id": r.id,
                    "authorization_id": r.authorization_id,
                    "amount_cents": r.amount_cents,
                    "reference": r.reference,
                    "created_at": r.created_at,
                }
                for r in rows
            ]
        }
    )
