"""duplicate_charge: checkout retries payment without its idempotency keys."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class DuplicateCharge(FaultType):
    name = "duplicate_charge"
    summary = "checkout retries payment without its idempotency keys"
    directions = ("inbound",)
    targets = ("checkout",)
