"""Changes to a service's live resilience settings, as the chaos API takes them and a scenario
writes them (plain models: no Flask here).

    PolicyPatch       some fields of one dependency's policy (shopsim.settings.DependencyPolicy)
    ResiliencePatch   per dependency a PolicyPatch, and the admission limit
    ResilienceChange  a patch for a while: `duration_s` or `duration` (text), else until reset
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from shopsim.errors import Unprocessable
from shopsim.faults.spec import MAX_DURATION_S, parse_duration
from shopsim.validation import Model

Seconds = Annotated[float, Field(gt=0, le=600, allow_inf_nan=False)]


class PolicyPatch(Model):
    timeout_s: Seconds | None = None
    connect_timeout_s: Seconds | None = None
    retries: Annotated[int, Field(ge=0, le=10)] | None = None
    backoff: Literal["exponential", "none"] | None = None
    backoff_base_s: Annotated[float, Field(ge=0, le=60)] | None = None
    backoff_max_s: Annotated[float, Field(ge=0, le=600)] | None = None
    retry_budget_ratio: Annotated[float, Field(ge=0, le=10)] | None = None
    retry_budget_min_per_s: Annotated[float, Field(ge=0, le=10_000)] | None = None
    breaker_enabled: bool | None = None
    breaker_failure_ratio: Annotated[float, Field(gt=0, le=1)] | None = None
    breaker_min_requests: Annotated[int, Field(ge=1, le=100_000)] | None = None
    breaker_window_s: Seconds | None = None
    breaker_open_s: Seconds | None = None


class ResiliencePatch(Model):
    dependencies: dict[str, PolicyPatch] = Field(default_factory=dict)
    admission_max_in_flight: Annotated[int, Field(ge=0, le=100_000)] | None = None


class ResilienceChange(ResiliencePatch):
    """A patch for a while: `duration_s` (or `duration`, text like 90s) as a fault's, or until
    reset when neither is given."""

    duration_s: Annotated[float, Field(gt=0, le=MAX_DURATION_S, allow_inf_nan=False)] | None = None
    duration: Annotated[str, Field(max_length=40)] | None = None

    def seconds(self) -> float | None:
        """How long the change lasts (None: until reset); Unprocessable naming the field."""
        if self.duration is None:
            return self.duration_s
        if self.duration_s is not None:
            raise Unprocessable("give duration or duration_s, not both", field="duration")
        try:
            seconds = parse_duration(self.duration)
        except (ValueError, OverflowError) as exc:
            raise Unprocessable(f"duration: {exc}", field="duration") from None
        if not 0 < seconds <= MAX_DURATION_S:
            limit = f"{MAX_DURATION_S:.0f}s"
            raise Unprocessable(
                f"duration must be more than 0 and at most {limit}", field="duration"
            )
        return seconds
