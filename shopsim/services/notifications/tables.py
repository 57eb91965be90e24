"""notifications' tables: the outbox and its dead letters, contacts, registry subscriptions and
the mail sink."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: The outbox: one row per event, queued until the sender has written its mail.
messages = Table(
    "notifications_messages",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("template", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # the validated request, as JSON
    Column("request_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # queued | sent | failed (see dead_letters)
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Index("ix_notifications_messages_status_created", "status", "created_at"),
)

#: Why each parked ("failed") message could not be sent, for a human to look at. A table of its
#: own rather than a column, so databases created before it gain it through create_all.
dead_letters = Table(
    "notifications_dead_letters",
    metadata,
    Column("message_id", String(40), primary_key=True),
    Column("error", String(500), nullable=False),
    Column("failed_at", Float, nullable=False),
)

contacts = Table(
    "notifications_contacts",
    metadata,
    Column("customer_id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("first_name", String(100), nullable=False),
)

registry_subscriptions = Table(
    "notifications_registry_subscriptions",
    metadata,
    Column("registry_id", Integer, primary_key=True),
    Column("customer_id", Integer, primary_key=True),
)

#: Where mail goes instead of the internet: one row per (message, recipient), never two.
mail_sink = Table(
    "notifications_mail_sink",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False),
    Column("event_id", String(200), nullable=False, index=True),
    Column("template", String(32), nullable=False),
    Column("recipient_customer_id", Integer, nullable=False, index=True),
    Column("recipient_email", String(254), nullable=False),
    Column("greeting", String(250), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", Float, nullable=False),
    UniqueConstraint("message_id", "recipient_customer_id"),
)
