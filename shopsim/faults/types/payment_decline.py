"""payment_decline: payment declines authorizations at the envelope's probability."""

from __future__ import annotations

from shopsim.faults.base import FaultType


class PaymentDecline(FaultType):
    name = "payment_decline"
    summary = "payment declines authorizations at the envelope's probability"
    directions = ("inbound",)
    targets = ("payment",)
