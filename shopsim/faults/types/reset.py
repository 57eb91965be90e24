"""reset: the work is done but the connection drops while the response is on its way."""

from __future__ import annotations

import random

from shopsim.faults.base import Action, FaultType, NoParams, Reset


class ResetFault(FaultType[NoParams]):
    name = "reset"
    request_fault = True
    summary = "does the work, then drops the connection mid-response"

    def decide(self, rng: random.Random, now: float) -> Action | None:
        return Reset()
