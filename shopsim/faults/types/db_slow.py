"""db_slow: the target's database answers slowly.

Every statement the target sends (BEGIN included) draws with the envelope's probability and,
when it fires, waits ms (+- uniform jitter_ms) first. The wait happens inside the service's
own connection and transaction, as a slow disk or an overloaded server would make it: locks
are held longer, pooled connections stay busy, requests queue for them. The database calls its
`before_statement` hook (shopsim/db.py), which create_app points at `fires(Logic.DB_SLOW)`; this
type only decides the delay, and the statement waits on the fault: its removal lets it go.
"""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field

from shopsim.faults.base import Action, Delay, FaultType
from shopsim.faults.logic import Logic
from shopsim.validation import Model

Millis = Annotated[float, Field(ge=0, le=60_000, allow_inf_nan=False)]


class DbSlowParams(Model):
    ms: Millis = 100.0
    jitter_ms: Millis = 0.0


class DbSlow(FaultType[DbSlowParams]):
    name = Logic.DB_SLOW
    summary = "delays each of the target's database statements by ms (+- jitter_ms)"
    Params = DbSlowParams
    directions = ("inbound",)

    def decide(self, rng: random.Random, now: float) -> Action | None:
        p = self.params
        jitter = rng.uniform(-p.jitter_ms, p.jitter_ms) if p.jitter_ms else 0.0
        return Delay(max(0.0, p.ms + jitter) / 1000.0)
