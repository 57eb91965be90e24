"""cache_off: the catalog's read cache is bypassed."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class CacheOff(FaultType):
    name = "cache_off"
    summary = "the catalog's read cache is bypassed"
    directions = ("inbound",)
    targets = ("catalog",)
