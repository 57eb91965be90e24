"""cpu_burn: burns CPU in the target's process while active."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class CpuBurn(FaultType):
    name = "cpu_burn"
    summary = "burns CPU in the target's process while active"
    directions = ("inbound",)
    targets = ()
    ambient = True
