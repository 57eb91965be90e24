"""checkout: the one orchestrator, a saga with compensations behind an idempotency key.

Where each part of a checkout lives, in the order one request meets them:

    views         the routes: POST /checkouts claims the key, runs or resumes the saga, replies;
                  GET /orders reads orders back
    attempts      the claim on a key (one row per customer and key) and its states
    state         what this process keeps in memory: its metrics, the attempts it is running
    leases        the heartbeat that tells a live attempt from one whose process died
    saga          one attempt from the cart to the payment and back, and `Saga.resume` for
                  one left half-done; the only code that changes what an attempt holds
    basket        steps 1-2: the lines (cart, given items, registry check) and their prices
    payment       steps 4 and 6 under the attempt's keys: authorize, capture, void
    duplicate_charge  the fault's switch point (`fires`) and its known-bad, unkeyed payment
    completion    steps 7-8 after a capture: commit the stock, confirm, run the followups
    compensation  undoing before a capture: void the authorization, release the stock
    records       order and charge rows: plain functions of the tables
    followups     work owed after confirming: confirmation mail, registry purchase, cart
    recovery      `recover(ctx)`: resumes what a crash or an outage left half-done
    tables        the tables, and how an order reads back
    instruments   checkout's metrics

Imports go one way: from `views` and `recovery` down through the saga to its steps, then
`records`, `tables` and `instruments`. No module imports one that imports it, not even for
types only (tests/test_checkout_imports.py keeps it so).
"""

from __future__ import annotations

from flask import Flask

from shopsim.context import ServiceContext
from shopsim.services.checkout import followups, instruments, leases, state, views
from shopsim.services.checkout.recovery import recover
from shopsim.services.checkout.tables import metadata
from shopsim.services.checkout.views import CheckoutRequest

__all__ = ["CheckoutRequest", "init_app", "metadata", "recover"]


def init_app(app: Flask, ctx: ServiceContext) -> None:
    """Routes, checkout metrics, the heartbeat of running attempts and the recovery loop."""
    metrics = instruments.register(ctx, lambda: followups.pending_count(ctx))
    ctx.service_state = state.CheckoutState(ctx=ctx, metrics=metrics)
    app.register_blueprint(views.bp)
    ctx.every(leases.HEARTBEAT_S, "heartbeat", lambda: leases.beat(ctx))
    ctx.every(2.0, "recover", lambda: recover(ctx))
