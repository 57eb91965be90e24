"""outbox_stall: the notifications sender stops sending; the outbox backs up."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class OutboxStall(FaultType):
    name = "outbox_stall"
    summary = "the notifications sender stops sending; the outbox backs up"
    directions = ("inbound",)
    targets = ("notifications",)
