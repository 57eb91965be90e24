"""oversell_race: inventory checks stock, then reserves without a lock (check-then-act).

Models the classic doorbuster bug. The correct reservation locks the stock rows (FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite) and checks and holds in one transaction. When this fault
fires for a POST /reservations, inventory takes `holds.reserve_unlocked` instead: it reads
`available` in a short read transaction of its own, waits `window_ms` (the gap a slow request
leaves between its check and its write, widened so the race shows up on demand), then adds to
`reserved` in a separate write transaction without checking again.

Damage: buyers racing for the last units all pass the check on the same stale numbers and all
get a hold, so `reserved` ends above `on_hand` (the invariant 0 <= reserved <= on_hand breaks):
stock is promised twice, and committing those holds drives `on_hand` negative. Nothing errors;
every oversold buyer gets a 201. Requests that do not race are served correctly.

Probability: drawn per reservation request. Idempotent replays stay correct: only the stock
check is stale.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shopsim.faults.base import FaultType
from shopsim.faults.logic import Logic
from shopsim.validation import Model


class OversellRaceParams(Model):
    window_ms: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 20.0


class OversellRace(FaultType[OversellRaceParams]):
    """Reservations check stock in one transaction and hold it in another, with no lock."""

    name = Logic.OVERSELL_RACE
    summary = "inventory checks stock, waits window_ms, then reserves without a lock: oversells"
    Params = OversellRaceParams
    directions = ("inbound",)
    targets = ("inventory",)
