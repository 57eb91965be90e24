"""poison_message: a message the sender cannot process blocks the outbox."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class PoisonMessage(FaultType):
    name = "poison_message"
    summary = "a message the sender cannot process blocks the outbox"
    directions = ("inbound",)
    targets = ("notifications",)
