"""payment_decline: the card network starts declining authorizations (an issuer or fraud-rule
incident). Payment answers exactly as it does a real decline: 402 with the decline code, stored
and replayed under the Idempotency-Key, so a retry of a declined authorization is declined again.
"""

from __future__ import annotations

from typing import Literal

from shopsim.faults.base import FaultType
from shopsim.faults.logic import Logic
from shopsim.validation import Model

#: Issuer answers a gateway passes on as 402 (Stripe's decline codes).
DeclineCode = Literal[
    "card_declined",
    "insufficient_funds",
    "do_not_honor",
    "processing_error",
    "expired_card",
    "incorrect_cvc",
    "lost_card",
    "stolen_card",
    "fraudulent",
]


class PaymentDeclineParams(Model):
    code: DeclineCode = "card_declined"


class PaymentDecline(FaultType[PaymentDeclineParams]):
    """Payment's authorize takes its decline path (see services/payment `_decline_code`)."""

    name = Logic.PAYMENT_DECLINE
    summary = "payment declines authorizations (402 with params.code) at the fault's probability"
    Params = PaymentDeclineParams
    directions = ("inbound",)
    targets = ("payment",)
