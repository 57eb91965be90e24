"""error: answer with an HTTP error instead of doing the work."""

from __future__ import annotations

import random
from typing import Annotated, Any

from pydantic import Field

from shopsim.faults.base import Action, FaultType, Respond
from shopsim.validation import Model


class ErrorParams(Model):
    status: Annotated[int, Field(ge=400, le=599)] = 500
    body: dict[str, Any] | None = None
    retry_after_s: Annotated[int, Field(ge=0, le=3600)] | None = None


class Error(FaultType[ErrorParams]):
    name = "error"
    request_fault = True
    summary = "answers status (500, 503, 429...) with a JSON body, without doing the work"
    Params = ErrorParams

    def decide(self, rng: random.Random, now: float) -> Action | None:
        p = self.params
        body = p.body or {"error": {"code": "injected_fault", "message": f"fault: {p.status}"}}
        headers = {"Retry-After": str(p.retry_after_s)} if p.retry_after_s is not None else {}
        return Respond(p.status, body, headers)
