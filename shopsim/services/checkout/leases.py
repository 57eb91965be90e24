"""The heartbeat that tells a live attempt from one whose process died.

A ``running`` attempt row belongs to the process that claimed it. While that process lives, its
heartbeat (`beat`, every HEARTBEAT_S from a thread of its own) keeps the row's ``updated_at``
fresh, however long the saga's calls take: a hang at the gateway or a slow policy never makes a
live checkout look abandoned. A process that dies stops beating, and LEASE_S after its last beat
its attempts are orphans: the next retry with the key, or `recover`, takes them over. So a
checkout whose process was killed is finished seconds after the service is back, not minutes.

A process never takes over an attempt it is running itself, even when its own beat was held up
(a locked database, a starved thread): `Leases.holds` (in `state`) is asked first.
"""

from __future__ import annotations

import time

from sqlalchemy import and_, or_, update

from shopsim.context import ServiceContext
from shopsim.services.checkout import state
from shopsim.services.checkout.state import Leases
from shopsim.services.checkout.tables import attempts

HEARTBEAT_S = 1.0
#: Four missed beats: long past any stall of a live process's heartbeat thread, yet short
#: enough that a customer retrying after a crash waits seconds.
LEASE_S = 5.0


def of(ctx: ServiceContext) -> Leases:
    """The leases of a checkout app."""
    return state.of(ctx).leases


def orphaned(ctx: ServiceContext, customer_id: int, key: str, updated_at: float) -> bool:
    """A running attempt whose process stopped beating LEASE_S ago and that is not ours."""
    return updated_at < time.time() - LEASE_S and not of(ctx).holds(customer_id, key)


def beat(ctx: ServiceContext) -> int:
    """Mark every running attempt of this process alive; returns how many rows it touched."""
    held = of(ctx).held()
    if not held:
        return 0
    mine = or_(
        *(and_(attempts.c.customer_id == c, attempts.c.idempotency_key == k) for c, k in held)
    )
    with ctx.db.write() as conn:
        touched = conn.execute(
            update(attempts)
            .where(mine & (attempts.c.state == "running"))
            .values(updated_at=time.time())
        )
    return int(touched.rowcount)
