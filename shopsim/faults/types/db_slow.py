"""db_slow: the target's database queries are slowed down."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class DbSlow(FaultType):
    name = "db_slow"
    summary = "the target's database queries are slowed down"
    directions = ("inbound",)
    targets = ()
