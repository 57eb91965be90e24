"""notification_misfire: the gift-alert audience query loses its registry filter."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class NotificationMisfire(FaultType):
    name = "notification_misfire"
    summary = "the gift-alert audience query loses its registry filter"
    directions = ("inbound",)
    targets = ("notifications",)
