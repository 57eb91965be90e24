"""The services' data as the audit reads it: every database opened read-only, rows loaded once.

SQLite. A file without a ``-wal`` holds all its data (the last connection to close folded the
WAL in), so it is opened ``immutable=1``: no lock is taken and no ``-wal`` or ``-shm`` is
created, as ``mode=ro`` would on a WAL database. With a ``-wal`` present (a running store, a
killed one, or service processes that exited without folding it in, as a game day's store
leaves them) committed rows are partly in it, which an immutable open would not read: then
``mode=ro``, which reads them and writes no data; SQLite's ``-shm`` index, already there, is
where every reader takes its read lock (and the first reader after a crash rebuilds it).
PostgreSQL. One READ ONLY, REPEATABLE READ transaction per database: every table is read at one
moment, and the audit cannot change a row.

Separate SQLite files cannot be read at one moment, so they are read in causal order (mail
before the orders that cause it, orders before the charges and carts that follow them): work
still in progress in a running store then looks in flight, never broken.
Only the services' Table objects are used, never their code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, create_engine, func, inspect, make_url, select
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ColumnElement

from shopsim.services.cart import lines as cart_lines
from shopsim.services.cart import purchases as cart_purchases
from shopsim.services.catalog import products
from shopsim.services.checkout import tables as checkout
from shopsim.services.inventory import tables as inventory
from shopsim.services.notifications import tables as notifications
from shopsim.services.payment import tables as payment
from shopsim.services.registry import tables as registry


class AuditError(Exception):
    """A database the audit was given cannot be read; the message names the service."""


@dataclass(frozen=True)
class Source:
    """One table the audit reads: its service, the columns it needs, which rows."""

    service: str
    table: Table
    columns: tuple[str, ...] = ()  # () = every column
    where: Callable[[Table], ColumnElement[bool]] | None = None
    stamp: str | None = None  # a time column: its newest value tells when the store last acted


def _captures(t: Table) -> ColumnElement[bool]:
    return (t.c.status_code == 200) & t.c.response_body.contains('"charge_id"')


#: Read in this order (see the module docstring). Wide text columns (mail bodies, stored
#: replies) are left out, except the stored capture answers that name a charge.
SOURCES: tuple[Source, ...] = (
    Source(
        "notifications",
        notifications.mail_sink,
        ("id", "event_id", "template", "recipient_customer_id", "recipient_email", "greeting"),
        stamp="sent_at",
    ),
    Source(
        "notifications",
        notifications.messages,
        ("id", "event_id", "template", "status", "created_at"),
        where=lambda t: t.c.status != "sent",
        stamp="created_at",
    ),
    Source("notifications", notifications.dead_letters),
    Source("notifications", notifications.registry_subscriptions),
    Source("registry", registry.registries, ("id", "owner_customer_id", "kind")),
    Source(
        "registry",
        registry.purchases,
        ("order_id", "registry_id", "alert_state", "created_at"),
        stamp="created_at",
    ),
    Source(
        "checkout",
        checkout.attempts,
        ("customer_id", "idempotency_key", "attempt_no", "state", "step", "order_id")
        + ("response_status", "created_at", "updated_at"),
        stamp="updated_at",
    ),
    Source("checkout", checkout.orders, stamp="updated_at"),
    Source("checkout", checkout.order_items),
    Source("checkout", checkout.followups, stamp="updated_at"),
    Source("cart", cart_purchases, stamp="applied_at"),
    Source("cart", cart_lines, stamp="updated_at"),
    Source("payment", payment.charges, stamp="created_at"),
    Source(
        "payment",
        payment.idempotency,
        ("key", "state", "status_code", "response_body"),
        where=_captures,
    ),
    Source(
        "payment",
        payment.authorizations,
        ("id", "status", "amount_cents", "reference", "updated_at"),
        stamp="updated_at",
    ),
    Source("inventory", inventory.stock),
    Source(
        "inventory",
        inventory.reservations,
        ("id", "status", "items", "expires_at", "updated_at"),
        where=lambda t: t.c.status == "held",
        stamp="updated_at",
    ),
    Source("catalog", products, ("sku", "price_cents")),
)


@dataclass(frozen=True)
class Snapshot:
    """Rows per table name (only tables that were read), and the newest time the data shows."""

    rows: Mapping[str, list[Any]]
    latest: float | None

    def has(self, *tables: str) -> bool:
        """True when every one of `tables` was read."""
        return all(name in self.rows for name in tables)

    def __getitem__(self, table: str) -> list[Any]:
        return self.rows[table]


def load(databases: Mapping[str, str | None]) -> Snapshot:
    """Read what the audit needs from each service's database; a service without a URL is
    skipped (its tables are absent from the snapshot), one that cannot be opened raises."""
    rows: dict[str, list[Any]] = {}
    stamps: list[float] = []
    with ExitStack() as stack:
        opened: dict[str, tuple[Connection, set[str]]] = {}
        for source in SOURCES:
            url = databases.get(source.service)
            if not url:
                continue
            if url not in opened:
                opened[url] = stack.enter_context(_opened(source.service, url))
            conn, tables = opened[url]
            if source.table.name not in tables:
                continue  # a database from before this table existed: its checks are skipped
            try:
                rows[source.table.name] = list(conn.execute(_query(source)).all())
                if source.stamp is not None:
                    newest = select(func.max(source.table.c[source.stamp]))
                    stamp = conn.execute(newest).scalar()
                    if stamp is not None:
                        stamps.append(float(stamp))
            except SQLAlchemyError as exc:
                raise AuditError(
                    f"{source.service}: cannot read {source.table.name}: {exc.__class__.__name__}"
                ) from exc
    return Snapshot(rows=rows, latest=max(stamps, default=None))


def _query(source: Source) -> Any:
    table = source.table
    columns = [table.c[name] for name in source.columns] if source.columns else [table]
    stmt = select(*columns)
    if source.where is not None:
        stmt = stmt.where(source.where(table))
    return stmt.order_by(*table.primary_key.columns)


@contextmanager
def _opened(service: str, url: str) -> Iterator[tuple[Connection, set[str]]]:
    """The read-only connection and the names of its tables; errors opening it name `service`."""
    opened = False
    try:
        with readonly(url) as conn:
            tables = set(inspect(conn).get_table_names())
            opened = True
            yield conn, tables
    except AuditError as exc:
        if opened:
            raise
        raise AuditError(f"{service}: {exc}") from exc


@contextmanager
def readonly(url: str) -> Iterator[Connection]:
    """A connection to `url` inside a transaction that cannot write, rolled back at the end."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise AuditError(f"not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database.startswith((":memory:", "file:")):
            raise AuditError(f"not a SQLite file URL: {url!r}")
        if not path.is_file():
            raise AuditError(f"no database file at {path}")
        engine = _sqlite_engine(path.resolve())
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver shopsim installs
        engine = create_engine(parsed, poolclass=NullPool)
    else:
        raise AuditError(f"the audit reads SQLite or PostgreSQL, not {backend}: {url!r}")
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn = conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            else:
                conn.exec_driver_sql("BEGIN")  # one read snapshot of the whole file
            yield conn
            conn.rollback()
    except SQLAlchemyError as exc:
        hidden = parsed.render_as_string(hide_password=True)
        raise AuditError(f"cannot read {hidden}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        engine.dispose()


def _sqlite_engine(path: Path) -> Any:
    wal = path.with_name(path.name + "-wal")
    # Without a -wal the main file is complete and no connection has it open to write it under
    # us. With one, mode=ro reads it (and would create a -shm only if it were missing too).
    uri = path.as_uri() + ("?mode=ro" if wal.exists() else "?immutable=1")

    def connect() -> sqlite3.Connection:
        # isolation_level=None: the driver begins nothing itself; readonly() says BEGIN.
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    return create_engine("sqlite://", creator=connect, poolclass=NullPool)
