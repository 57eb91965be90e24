"""gateway_timeout_after_capture: the gateway captures (the charge is in its ledger), then its
answer is held for hang_s, past the caller's timeout: the caller cannot tell whether the money
moved. A correct caller settles it with its idempotency keys (a retry is replayed, a void answers
already_captured); a caller that retries as a new payment charges twice.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shopsim.faults.base import FaultType
from shopsim.faults.logic import Logic
from shopsim.validation import Model


class GatewayTimeoutParams(Model):
    # Default past checkout's 3 s payment timeout; as long as 120 s to outlast any retry policy.
    hang_s: Annotated[float, Field(ge=0.1, le=120, allow_inf_nan=False)] = 5.0


class GatewayTimeoutAfterCapture(FaultType[GatewayTimeoutParams]):
    """Payment's capture holds its committed answer (payment.views `_hold_answer`)."""

    name = Logic.GATEWAY_TIMEOUT_AFTER_CAPTURE
    summary = "payment captures, then holds the answer hang_s (past the caller's timeout)"
    Params = GatewayTimeoutParams
    directions = ("inbound",)
    targets = ("payment",)
