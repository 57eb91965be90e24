"""payment's tables: the idempotency store, authorizations and the charges ledger."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

#: One row per Idempotency-Key: claimed ("in_progress") before the work, "done" with the stored
#: response after it. Validation failures leave no row.
idempotency = Table(
    "payment_idempotency",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # in_progress | done
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", Float, nullable=False),  # when the current claim was taken
)

authorizations = Table(
    "payment_authorizations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("status", String(16), nullable=False),  # authorized | captured | voided
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(100), nullable=False, index=True),
    # The token's kind ("visa" for "tok_visa"), never the token itself: a ledger keeps no secrets.
    Column("card_kind", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

#: The ledger: money actually taken. The unique authorization_id is the last line of defence
#: against charging one authorization twice.
charges = Table(
    "payment_charges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("authorization_id", String(40), nullable=False, unique=True),
    Column("amount_cents", Integer, nullable=False),
    Column("reference", String(100), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)
