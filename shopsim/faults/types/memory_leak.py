"""memory_leak: the target's process grows its memory while active."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class MemoryLeak(FaultType):
    name = "memory_leak"
    summary = "the target's process grows its memory while active"
    directions = ("inbound",)
    targets = ()
    ambient = True
