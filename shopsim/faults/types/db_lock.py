"""db_lock: holds locks on the target's hot rows or tables."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class DbLock(FaultType):
    name = "db_lock"
    summary = "holds locks on the target's hot rows or tables"
    directions = ("inbound",)
    targets = ()
    ambient = True
