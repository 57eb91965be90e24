"""The logic faults by name: the switch points a service asks about.

A logic fault switches one code path of one service to its known-bad variant, and only that
service's code asks for it, with a name from here: ``ctx.faults.fires(Logic.OVERSELL_RACE)``
(shopsim.faults.state.Faults.fires). The fault types take their names from here too, so a
switch point and its type cannot drift apart; shopsim.faults.table lists the types.
"""

from __future__ import annotations

from enum import StrEnum


class Logic(StrEnum):
    """The fault types a service's own code asks for."""

    CACHE_OFF = "cache_off"  # catalog's product cache lookup
    DB_SLOW = "db_slow"  # every statement of any service (the database's statement hook)
    PAYMENT_DECLINE = "payment_decline"  # payment's authorize
    GATEWAY_TIMEOUT_AFTER_CAPTURE = "gateway_timeout_after_capture"  # payment's capture
    DUPLICATE_CHARGE = "duplicate_charge"  # checkout's payment step
    OVERSELL_RACE = "oversell_race"  # inventory's reservation
    NOTIFICATION_MISFIRE = "notification_misfire"  # notifications' gift alert audience
    OUTBOX_STALL = "outbox_stall"  # notifications' sender round
    POISON_MESSAGE = "poison_message"  # notifications' sender round (its poison is planted)
