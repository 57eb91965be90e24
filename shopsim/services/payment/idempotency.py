"""Idempotency keys as Stripe does them: the first result for a key is stored and replayed.

    claim (own short transaction)  -> IntegrityError: someone holds or finished the key
        in_progress                -> 409 idempotency_key_in_use (retry later), unless the
                                      claim is older than STALE_CLAIM_S: then taken over
        done, same request hash    -> replay the stored status and body
        done, other request hash   -> 409 idempotency_key_reused
    work + store (one transaction) -> 2xx stored with the work, atomically
    work raised 402/404/409        -> the error is stored (a decline replays as a decline)
    work raised anything else      -> the claim is deleted: nothing was done, a retry may run it

Callers validate the request before `execute`, so a refused request never stores anything.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Request
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from shopsim.db import Database
from shopsim.errors import BadRequest, Conflict, ShopsimError
from shopsim.services.payment.tables import idempotency

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: Error statuses that are final answers about the request, so a retry must get them again.
STORED_ERRORS = frozenset({402, 404, 409})
#: A claim can vanish between our failed insert and our look-up (its holder let it go): retry.
CLAIM_ATTEMPTS = 3
#: A claim older than this belongs to a request that died (far beyond any caller's timeout):
#: the next request with the same key and body may take it over, as Stripe's locks expire.
STALE_CLAIM_S = 90.0

Work = Callable[[Connection], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Outcome:
    """A response to send: fresh from the work, or replayed from the store."""

    status: int
    body: str
    replayed: bool


def require_key(request: Request) -> str:
    """The request's Idempotency-Key, or 400 missing_idempotency_key."""
    key = request.headers.get(HEADER, "")
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadRequest(
            f"every POST needs an {HEADER} header of 1 to {MAX_KEY_LENGTH} characters",
            field=HEADER,
            code="missing_idempotency_key",
        )
    return key


def fingerprint(method: str, path: str, body: Mapping[str, Any]) -> str:
    """A hash of what the request asks for: the same key must always ask for the same thing."""
    canonical = json.dumps(
        {"method": method, "path": path, "body": body}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def execute(
    db: Database,
    key: str,
    request_hash: str,
    work: Work,
    *,
    before: Callable[[], None] | None = None,
) -> Outcome:
    """Run `work` at most once for `key`; `before` runs after the claim, outside transactions."""
    stored = _claim(db, key, request_hash)
    if stored is not None:
        return stored
    try:
        if before is not None:
            before()
        with db.write() as conn:
            status, body = work(conn)
            text = _dump(body)
            _finish(conn, key, status, text)
        return Outcome(status, text, replayed=False)
    except ShopsimError as err:
        if err.status not in STORED_ERRORS:
            _release(db, key)
            raise
        text = _dump(err.body())
        try:
            with db.write() as conn:
                _finish(conn, key, err.status, text)
        except BaseException:
            _release(db, key)
            raise
        return Outcome(err.status, text, replayed=False)
    except BaseException:
        _release(db, key)
        raise


def _claim(db: Database, key: str, request_hash: str) -> Outcome | None:
    """Insert the in-progress row (None), or the stored outcome to replay, or 409."""
    for _ in range(CLAIM_ATTEMPTS):
        try:
            with db.write() as conn:
                conn.execute(
                    idempotency.insert().values(
                        key=key,
                        request_hash=request_hash,
                        state="in_progress",
                        created_at=time.time(),
                    )
                )
            return None
        except IntegrityError:
            pass  # the key exists: decide from what its holder left
        with db.read() as conn:
            row = conn.execute(select(idempotency).where(idempotency.c.key == key)).first()
        if row is None:
            continue
        if row.state != "done":
            if row.request_hash == request_hash and _take_over_stale(db, key, row.created_at):
                return None
            raise _in_use()
        if row.request_hash != request_hash:
            raise Conflict(
                f"this {HEADER} was used for a different request",
                field=HEADER,
                code="idempotency_key_reused",
            )
        return Outcome(row.status_code, row.response_body, replayed=True)
    raise _in_use()


def _take_over_stale(db: Database, key: str, claimed_at: float) -> bool:
    """Take over a claim whose holder died (a killed process never releases it)."""
    if claimed_at > time.time() - STALE_CLAIM_S:
        return False
    # The work commits atomically with its result, so a dead holder left nothing half done.
    # Compare-and-set on the claim time: of several takers, exactly one wins.
    with db.write() as conn:
        taken = conn.execute(
            update(idempotency)
            .where(
                idempotency.c.key == key,
                idempotency.c.state == "in_progress",
                idempotency.c.created_at == claimed_at,
            )
            .values(created_at=time.time())
        )
    return taken.rowcount == 1


def _in_use() -> Conflict:
    return Conflict(
        f"a request with this {HEADER} is still running",
        field=HEADER,
        code="idempotency_key_in_use",
        headers={"Retry-After": "1"},
    )


def _finish(conn: Connection, key: str, status: int, text: str) -> None:
    done = conn.execute(
        update(idempotency)
        .where(idempotency.c.key == key, idempotency.c.state == "in_progress")
        .values(state="done", status_code=status, response_body=text)
    )
    if done.rowcount != 1:
        # Our claim is gone: storing now could make two executions look like one. Roll back.
        raise RuntimeError(f"idempotency claim for {key!r} was lost")


def _release(db: Database, key: str) -> None:
    with db.write() as conn:
        conn.execute(
            delete(idempotency).where(
                idempotency.c.key == key, idempotency.c.state == "in_progress"
            )
        )


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":")) + "\n"
