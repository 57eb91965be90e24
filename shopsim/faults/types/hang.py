"""hang: hold the request past the caller's timeout, then drop it unanswered."""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field

from shopsim.faults.base import Action, FaultType, Hang
from shopsim.validation import Model


class HangParams(Model):
    seconds: Annotated[float, Field(gt=0, le=300, allow_inf_nan=False)] = 30.0


class HangFault(FaultType[HangParams]):
    name = "hang"
    request_fault = True
    summary = "holds the request for seconds (past the caller's timeout), then drops it"
    Params = HangParams

    def decide(self, rng: random.Random, now: float) -> Action | None:
        return Hang(self.params.seconds)
