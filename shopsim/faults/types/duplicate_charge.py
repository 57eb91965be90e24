"""duplicate_charge: checkout's payment step forgets its idempotency keys (each call gets a
throwaway key) and, taking an answer for lost, runs authorize + capture again as a new payment:
the customer is charged twice for one order. The incident where a client retry loop mints a new
key per try; payment does nothing wrong.
"""

from __future__ import annotations

from shopsim.faults.base import FaultType, NoParams
from shopsim.faults.logic import Logic


class DuplicateCharge(FaultType[NoParams]):
    """Checkout pays through `services/checkout/duplicate_charge.py` instead of its keyed steps."""

    name = Logic.DUPLICATE_CHARGE
    summary = "checkout pays without its idempotency keys and retries the payment: two charges"
    directions = ("inbound",)
    targets = ("checkout",)
