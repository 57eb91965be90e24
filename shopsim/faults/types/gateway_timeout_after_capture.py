"""gateway_timeout_after_capture: the gateway captures, then answers too late."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class GatewayTimeoutAfterCapture(FaultType):
    name = "gateway_timeout_after_capture"
    summary = "payment captures, then holds the answer past the caller's timeout"
    directions = ("inbound",)
    targets = ("payment",)
