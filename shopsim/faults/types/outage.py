"""outage: the service is unreachable; callers see connection errors."""

from __future__ import annotations

import random

from shopsim.faults.base import Action, FaultType, NoParams, Refuse


class Outage(FaultType[NoParams]):
    name = "outage"
    request_fault = True
    summary = "callers' connections to the target fail (refused); direct clients are cut off"
    directions = ("outbound", "inbound")

    def decide(self, rng: random.Random, now: float) -> Action | None:
        return Refuse()
