"""oversell_race: inventory checks stock, then reserves without a lock (check-then-act)."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class OversellRace(FaultType):
    name = "oversell_race"
    summary = "inventory checks stock, then reserves without a lock (check-then-act)"
    directions = ("inbound",)
    targets = ("inventory",)
