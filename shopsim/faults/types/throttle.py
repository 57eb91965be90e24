"""throttle: cap concurrency; requests over the cap wait, then get 503."""

from __future__ import annotations

import random
import threading
from typing import Annotated

from pydantic import Field

from shopsim.faults.base import Action, FaultType, Limit
from shopsim.validation import Model


class ThrottleParams(Model):
    concurrency: Annotated[int, Field(ge=1, le=1000)] = 2
    wait_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 1.0


class Throttle(FaultType[ThrottleParams]):
    name = "throttle"
    request_fault = True
    summary = "at most concurrency requests at a time; the rest wait up to wait_s, then 503"
    Params = ThrottleParams

    def __init__(self, params: ThrottleParams) -> None:
        super().__init__(params)
        self.gate = threading.BoundedSemaphore(params.concurrency)

    def decide(self, rng: random.Random, now: float) -> Action | None:
        return Limit(self.params.concurrency, self.params.wait_s, self.gate)
