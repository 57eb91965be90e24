"""The load and store parts of a scenario: stages, the journey mix, the store's capacity."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from shopsim.gameday.fields import (
    JOURNEYS,
    MAX_RATE,
    MAX_USERS,
    Base,
    ServiceName,
    Span,
    Weight,
    problem,
)


class Stage(Base):
    """One load stage: hold `rate` (open) or `users` (closed) for `duration`; with `ramp`, move
    linearly from the previous stage's target (0 before the first) instead of jumping."""

    duration_s: Span = Field(alias="duration")
    rate: Annotated[float, Field(ge=0, le=MAX_RATE, allow_inf_nan=False)] | None = Field(
        default=None, description="open model: arrivals per second"
    )
    users: Annotated[int, Field(ge=0, le=MAX_USERS)] | None = Field(
        default=None, description="closed model: concurrent users"
    )
    ramp: bool = False

    def target(self) -> float | int:
        """The stage's target: arrivals per second or users, whichever the model uses."""
        return self.rate if self.rate is not None else self.users or 0


class Mix(Base):
    """Relative weights of the customer journeys (any scale; they need not add up to 100)."""

    browser: Weight = 0.0
    shopper: Weight = 0.0
    gift_buyer: Weight = 0.0

    @model_validator(mode="after")
    def _some_weight(self) -> Mix:
        if self.browser + self.shopper + self.gift_buyer <= 0:
            raise problem(f"give at least one journey ({', '.join(JOURNEYS)}) a positive weight")
        return self


class Load(Base):
    """The traffic: open (arrivals on a schedule) or closed (users), stage after stage."""

    model: Literal["open", "closed"]
    stages: Annotated[list[Stage], Field(min_length=1, max_length=100)]
    mix: Mix = Mix(browser=70, shopper=25, gift_buyer=5)
    max_in_flight: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=2000, description="open model: arrivals beyond this many in flight are dropped"
    )

    @model_validator(mode="after")
    def _stage_keys(self) -> Load:
        wanted, other = ("rate", "users") if self.model == "open" else ("users", "rate")
        kind = "an open-model" if self.model == "open" else "a closed-model"
        for i, stage in enumerate(self.stages):
            if getattr(stage, other) is not None:
                raise problem(f"{kind} stage takes {wanted}, not {other}", "stages", i, other)
            if getattr(stage, wanted) is None:
                raise problem(f"is required in {kind} stage", "stages", i, wanted)
        return self

    def total_s(self) -> float:
        """How long the stages last together."""
        return sum(stage.duration_s for stage in self.stages)


class Store(Base):
    """Capacity and latency of the store under test (applied when the run starts the store)."""

    threads: dict[ServiceName, Annotated[int, Field(ge=1, le=256)]] = Field(default_factory=dict)
    admission: dict[ServiceName, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        default_factory=dict,
        description="requests a service holds, waiting or served, before it answers 503 at "
        "once (admission control, load shedding); default 4x its threads, 0 turns it off",
    )
    payment_latency_ms: Annotated[float, Field(ge=0, le=60_000, allow_inf_nan=False)] | None = None
    payment_round_trip_every_call: bool = Field(
        default=False,
        description="every call to payment waits out the card network, retries answered from "
        "the idempotency store included (the keys are checked by the remote gateway)",
    )
