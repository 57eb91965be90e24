"""Tying up what checkouts left half-done: `recover(ctx)`, every 2 s (tests call it directly).

1. Attempts in ``needs_recovery``, or ``running`` but orphaned (their process stopped beating
   `leases.LEASE_S` ago: it died), are taken over one at a time and handed to the one entry
   point that resumes a saga, `Saga.resume`, which settles them from their order row:
   - captured (recorded, or a void now answers ``already_captured``): go forward, commit and
     confirm; the order ends confirmed and the attempt done with its 201.
   - otherwise: void, release, order failed; the attempt becomes ``done`` when it already owes
     its caller a final answer (a decline whose release had failed, say), else ``retryable``.
   - payment or inventory still cannot answer: back to ``needs_recovery`` for the next round.
2. Pending followups are tried again.

A client retry that finds its key in ``needs_recovery``, or orphaned, resumes it the same way
first, so a checkout killed mid-saga is finished by the first retry once its lease has run out.
Known gap: a process that dies between the authorization's answer and the order row (step 5)
leaves that authorization unknown here; it is never captured (captures only use recorded ids),
so it moves no money and lapses at the gateway.
"""

from __future__ import annotations

import logging
import time

from shopsim.context import ServiceContext
from shopsim.services.checkout import attempts, followups, state
from shopsim.services.checkout.saga import Saga

log = logging.getLogger("shopsim")


def recover(ctx: ServiceContext, limit: int = 50) -> int:
    """Resolve unresolved attempts, then retry pending followups; returns how many finished."""
    checkout = state.of(ctx)
    started = time.time()
    finished = 0
    for _ in range(limit):
        claim = attempts.take_next(ctx, started)
        if claim is None:
            break
        try:
            with checkout.leases.holding(claim):
                Saga(checkout, claim).resume()
            finished += 1
        except Exception as exc:  # parked again by resume: the next round tries again
            log.warning("checkout: %s still unresolved: %s", claim.order_id, exc)
    return finished + followups.run(ctx)
