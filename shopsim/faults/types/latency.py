"""latency: slow every affected request down (fixed + jitter, or a lognormal distribution)."""

from __future__ import annotations

import math
import random
from typing import Annotated, Literal

from pydantic import Field

from shopsim.faults.base import Action, Delay, FaultType
from shopsim.validation import Model

Millis = Annotated[float, Field(ge=0, le=120_000, allow_inf_nan=False)]


class LatencyParams(Model):
    ms: Millis = 500.0
    jitter_ms: Millis = 0.0
    distribution: Literal["uniform", "lognormal"] = "uniform"


class Latency(FaultType[LatencyParams]):
    name = "latency"
    request_fault = True
    summary = "adds ms (+- jitter_ms, or lognormal around ms) before the request is handled"
    Params = LatencyParams

    def decide(self, rng: random.Random, now: float) -> Action | None:
        p = self.params
        if p.distribution == "lognormal" and p.ms > 0:
            # median ms; jitter_ms sets the spread (sigma of the underlying normal)
            sigma = math.log1p(p.jitter_ms / p.ms) if p.jitter_ms else 0.25
            return Delay(rng.lognormvariate(math.log(p.ms), sigma) / 1000.0)
        jitter = rng.uniform(-p.jitter_ms, p.jitter_ms) if p.jitter_ms else 0.0
        return Delay(max(0.0, p.ms + jitter) / 1000.0)
