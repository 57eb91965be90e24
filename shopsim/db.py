"""One service's database: an SQLAlchemy Core engine over SQLite (WAL) or PostgreSQL.

`Database.write()` opens a transaction that holds the write lock from its first statement on
SQLite (``BEGIN IMMEDIATE``), so check-then-act sequences are serialised there; on PostgreSQL
services take row locks with ``SELECT ... FOR UPDATE`` instead. Time spent waiting for a pooled
connection is observed into the pool-wait histogram. `before_statement`, when given, is called
before every statement the engine sends (BEGIN included), inside its connection and transaction:
create_app wires it to the fault engine's db_slow switch point. `hold_lock` holds a lock as
another client would (what the db_lock fault does to a service's database).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    make_url,
    select,
    true,
)
from sqlalchemy.pool import QueuePool


@dataclass(frozen=True)
class HotRows:
    """The rows of a service's table that its busiest writes contend for (to lock on purpose)."""

    table: Table
    where: ColumnElement[bool]


class Database:
    """A service's engine plus the helpers every service uses to talk to it."""

    def __init__(
        self,
        url: str,
        metadata: MetaData,
        *,
        pool_size: int = 16,
        observe_wait: Callable[[float], None] | None = None,
        before_statement: Callable[[], None] | None = None,
    ) -> None:
        self.url = make_url(url)
        self.public_url = public_url(url)
        self.metadata = metadata
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._observe_wait = observe_wait or (lambda seconds: None)
        self.engine = _make_engine(url, self.is_sqlite, pool_size)
        if before_statement is not None:
            event.listen(self.engine, "before_cursor_execute", lambda *_: before_statement())

    def create_all(self) -> None:
        """Create this service's tables if they do not exist."""
        self.metadata.create_all(self.engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; whatever it began is rolled back."""
        with self._connect(write=False) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction, committed when the block ends without an exception."""
        with self._connect(write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        started = time.perf_counter()
        conn = self.engine.connect()
        self._observe_wait(time.perf_counter() - started)
        try:
            if write and self.is_sqlite:
                conn = conn.execution_options(sqlite_write=True)
            yield conn
        finally:
            conn.close()

    @contextmanager
    def hold_lock(self, scope: str, hot: HotRows | None = None) -> Iterator[None]:
        """Hold a lock while in the block, as a batch job or a migration would.

        SQLite: the write lock (``BEGIN IMMEDIATE``), so writers wait and readers do not.
        PostgreSQL: ``SELECT ... FOR UPDATE`` on the `hot` rows (else the first table's first
        rows) or, for scope "table", ``LOCK TABLE ... IN EXCLUSIVE MODE`` on their table.
        """
        with self.write() as conn:
            if not self.is_sqlite:
                table = hot.table if hot else self.metadata.sorted_tables[0]
                conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")  # never queue forever
                if scope == "table":
                    quoted = conn.dialect.identifier_preparer.format_table(table)
                    conn.exec_driver_sql(f"LOCK TABLE {quoted} IN EXCLUSIVE MODE")
                else:
                    rows = select(table).where(hot.where if hot else true())
                    rows = rows.order_by(*table.primary_key.columns).limit(10)
                    conn.execute(rows.with_for_update()).fetchall()
            yield

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def public_url(url: str) -> str:
    """The URL as operators may see it: no password (nor one in the query), SQLite paths absolute.

    It still says exactly which database is meant, so a tool given it (and the password, from
    its own environment) opens the very same tables.
    """
    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k.lower() != "password"}
    parsed = parsed._replace(password=None).set(query=query)  # set(password=None) keeps it
    database = parsed.database or ":memory:"
    if parsed.get_backend_name() == "sqlite" and not database.startswith((":memory:", "file:")):
        parsed = parsed.set(database=str(Path(database).resolve()))
    return parsed.render_as_string(hide_password=False)


def _make_engine(url: str, is_sqlite: bool, pool_size: int) -> Engine:
    if not is_sqlite:
        return create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, future=True
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to choose.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("sqlite_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def drop(db: Database) -> None:
    """Drop the service's tables, so the next create_all builds them afresh."""
    db.metadata.drop_all(db.engine)


def clear(db: Database) -> None:
    """Delete every row of the service's tables (children first), keeping the tables."""
    with db.write() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
