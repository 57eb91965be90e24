"""The claim on an idempotency key: one `checkout_attempts` row per (customer_id, key).

States of an attempt row::

    (none) --claim--> running --final answer (201/402/404/409/422)--> done        (replayed)
                         |  \\--503, everything compensated-------> retryable  (next claim: n+1)
                         |  \\--refused before holding anything---> (none); retryable if n > 1
                         \\----money or stock in an unknown state--> needs_recovery
    needs_recovery --recover(ctx) or the next claim resolves it--> done | retryable
    running, orphaned (its process died) --recover(ctx) or the next claim--> resolved the same way

- ``running``: one request (or `recover`) owns the key and is running saga attempt ``attempt_no``;
  another request with the key gets 409 ``idempotency_key_in_use`` with Retry-After. Its process
  keeps ``updated_at`` fresh (see `leases`); once that process is dead for `leases.LEASE_S` the
  attempt is orphaned and taken over like a ``needs_recovery`` one.
- ``done``: ``response_status``/``response_body`` hold the final answer, replayed byte for byte to
  a retry with the same request hash. A different request under the key is always 409
  ``idempotency_key_reused``.
- A refusal that came before any reservation or authorization (empty cart, unknown SKU, not on
  the registry, out of stock) is not stored: a refused request writes nothing, as Stripe keeps
  no result for a request that never started; a retry is simply a new request.
- ``retryable``: the attempt answered 503 after undoing all it did; the next claim bumps
  ``attempt_no``, so the saga runs again with fresh downstream keys (``<order_id>-<n>-...``).
- ``needs_recovery``: a capture or a compensation could not be confirmed either way (the order row
  says what is outstanding). A final answer the attempt owed may already be stored; it becomes
  ``done`` once the loose ends are tied, else ``retryable``.

Every transition is a compare-and-set inside one write transaction, so two requests (or a request
and `recover`) never both own an attempt.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shopsim.context import ServiceContext
from shopsim.errors import Conflict
from shopsim.services.checkout import leases
from shopsim.services.checkout.tables import attempts

RUNNING, DONE, RETRYABLE, NEEDS_RECOVERY = "running", "done", "retryable", "needs_recovery"


@dataclass(frozen=True)
class Claim:
    """Ownership of one attempt of the saga for a key."""

    customer_id: int
    key: str
    order_id: str
    attempt_no: int
    step: str
    resume: bool  # True: an earlier attempt left work half-done; resolve it, do not start anew


@dataclass(frozen=True)
class Stored:
    """A final answer given earlier for the same key and request."""

    status: int
    body: Any


def order_id_for(customer_id: int, key: str) -> str:
    """The order id a key will always produce: a retry can only ever touch this one order."""
    return "ord_" + hashlib.sha256(f"{customer_id}:{key}".encode()).hexdigest()[:20]


def request_hash(request: dict[str, Any]) -> str:
    """A hash of what was asked, to tell a retry from a different request under the same key."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _where(customer_id: int, key: str) -> Any:
    return (attempts.c.customer_id == customer_id) & (attempts.c.idempotency_key == key)


def claim(ctx: ServiceContext, customer_id: int, key: str, digest: str) -> Claim | Stored:
    """Own the key for a new attempt, or get the stored answer; 409 when that is not possible."""
    now = time.time()
    order_id = order_id_for(customer_id, key)
    try:
        # Its own transaction: the primary key decides which of two concurrent requests wins.
        with ctx.db.write() as conn:
            conn.execute(
                attempts.insert().values(
                    customer_id=customer_id,
                    idempotency_key=key,
                    request_hash=digest,
                    attempt_no=1,
                    state=RUNNING,
                    step="cart",
                    order_id=order_id,
                    created_at=now,
                    updated_at=now,
                )
            )
        return Claim(customer_id, key, order_id, 1, "cart", resume=False)
    except IntegrityError:
        pass
    with ctx.db.write() as conn:
        row = conn.execute(select(attempts).where(_where(customer_id, key)).with_for_update()).one()
        if row.request_hash != digest:
            raise Conflict(
                "this idempotency key was used for a different checkout",
                field="idempotency_key",
                code="idempotency_key_reused",
            )
        if row.state == DONE:
            return Stored(row.response_status, json.loads(row.response_body))
        if row.state == RUNNING and not leases.orphaned(ctx, customer_id, key, row.updated_at):
            raise Conflict(
                "a checkout with this idempotency key is still running",
                field="idempotency_key",
                code="idempotency_key_in_use",
                headers={"Retry-After": "1"},
            )
        resume = row.state in (NEEDS_RECOVERY, RUNNING)  # running here means orphaned
        attempt_no = row.attempt_no if resume else row.attempt_no + 1
        step = row.step if resume else "cart"
        conn.execute(
            attempts.update()
            .where(_where(customer_id, key))
            .values(
                state=RUNNING,
                attempt_no=attempt_no,
                step=step,
                response_status=row.response_status if resume else None,
                response_body=row.response_body if resume else None,
                updated_at=now,
            )
        )
    return Claim(customer_id, key, order_id, attempt_no, step, resume)


def take_next(ctx: ServiceContext, started: float) -> Claim | None:
    """For `recover`: own the oldest attempt left needs_recovery (before `started`) or orphaned."""
    now = time.time()
    mine = leases.of(ctx)
    with ctx.db.write() as conn:
        rows = conn.execute(
            select(attempts)
            .where(
                ((attempts.c.state == NEEDS_RECOVERY) & (attempts.c.updated_at <= started))
                | ((attempts.c.state == RUNNING) & (attempts.c.updated_at < now - leases.LEASE_S))
            )
            .order_by(attempts.c.updated_at)
            .limit(1 + len(mine.held()))  # past every row this process is running itself
            .with_for_update()
        ).fetchall()
        row = next((r for r in rows if not mine.holds(r.customer_id, r.idempotency_key)), None)
        if row is None:
            return None
        conn.execute(
            attempts.update()
            .where(_where(row.customer_id, row.idempotency_key))
            .values(state=RUNNING, updated_at=now)
        )
    key, order_id = row.idempotency_key, row.order_id
    return Claim(row.customer_id, key, order_id, row.attempt_no, row.step, resume=True)


def mark(ctx: ServiceContext, claim: Claim, step: str) -> None:
    """Record the step an attempt is about to take, before it touches another service."""
    with ctx.db.write() as conn:
        conn.execute(
            attempts.update()
            .where(_where(claim.customer_id, claim.key))
            .values(step=step, updated_at=time.time())
        )


def stored_response(ctx: ServiceContext, claim: Claim) -> tuple[int, Any] | None:
    """The final answer an attempt already owes its caller, if it has one."""
    with ctx.db.read() as conn:
        row = conn.execute(select(attempts).where(_where(claim.customer_id, claim.key))).one()
    if row.response_status is None:
        return None
    return row.response_status, json.loads(row.response_body)


def withdraw(ctx: ServiceContext, claim: Claim) -> None:
    """Give back an owned claim whose attempt was refused before it touched anything.

    A first attempt's row is deleted, as if the request had never come; a later attempt's row
    goes back to ``retryable`` (it keeps the number it used, so no downstream key is reused).
    """
    owned = _where(claim.customer_id, claim.key) & (attempts.c.state == RUNNING)
    with ctx.db.write() as conn:
        if claim.attempt_no == 1:
            conn.execute(attempts.delete().where(owned))
        else:
            conn.execute(
                attempts.update().where(owned).values(state=RETRYABLE, updated_at=time.time())
            )


def settle(
    ctx: ServiceContext,
    claim: Claim,
    state: str,
    step: str,
    response: tuple[int, Any] | None = None,
    conn: Any = None,
) -> None:
    """Move an owned attempt to `state`, storing the final answer it gives (if any)."""
    values: dict[str, Any] = {"state": state, "step": step, "updated_at": time.time()}
    if response is not None:
        values |= {"response_status": response[0], "response_body": json.dumps(response[1])}
    statement = attempts.update().where(_where(claim.customer_id, claim.key)).values(**values)
    if conn is not None:
        conn.execute(statement)
        return
    with ctx.db.write() as own:
        own.execute(statement)
