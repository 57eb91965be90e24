"""A game-day scenario: load, faults, resilience, SLOs, expectations and stop conditions on one
timeline, with a seed.

    Scenario    name, summary, description, seed, duration, load: Load (model, stages [Stage],
                mix Mix, max_in_flight), store: Store, faults [FaultEntry], resilience:
                Resilience (initial, changes [ResilienceChange]), slos: Slos, expectations:
                Expectations, status_page: StatusPage, stop_conditions [StopCondition]

The models hold float seconds in attributes named `*_s` (`duration_s`, `at_s`, `for_s`),
aliased to the file's keys (`duration`, `at`, `for`). Every model is strict and refuses unknown
fields. A fault entry (shopsim.gameday.faultentry) is `at` plus a FaultSpec built once. Load and
Store live in shopsim.gameday.loadspec; the field types and the error helper in
shopsim.gameday.fields.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from shopsim.faults import budget
from shopsim.faults.policy import ResiliencePatch
from shopsim.gameday.faultentry import FaultEntry
from shopsim.gameday.fields import (
    RATIO_METRICS,
    THRESHOLDS,
    Base,
    Instant,
    Number,
    Ratio,
    ServiceName,
    SloName,
    Span,
    StopMetric,
    check_time_scale,
    fmt_s,
    problem,
)
from shopsim.gameday.loadspec import Load, Store
from shopsim.metrics import LATENCY_BUCKETS
from shopsim.settings import DEPENDENCIES

__all__ = ["Load", "Scenario", "Store", "check_time_scale"]  # re-exported for callers


def _unknown_dependency(service: str, patch: ResiliencePatch, *path: str | int) -> None:
    calls = DEPENDENCIES[service]
    for dep in patch.dependencies:
        if dep not in calls:
            message = f"{service} does not call {dep!r} (it calls: {', '.join(calls) or 'none'})"
            raise problem(message, *path, "dependencies", dep)


class ResilienceChange(Base):
    """Change one service's live resilience settings at `at` (a /_chaos/resilience patch)."""

    at_s: Instant = Field(alias="at")
    service: ServiceName
    patch: ResiliencePatch

    @model_validator(mode="after")
    def _real_dependencies(self) -> ResilienceChange:
        _unknown_dependency(self.service, self.patch, "patch")
        return self


class Resilience(Base):
    """Resilience settings from the start (`initial`, per service) and changes during the run."""

    initial: dict[ServiceName, ResiliencePatch] = Field(default_factory=dict)
    changes: list[ResilienceChange] = Field(default_factory=list)

    @model_validator(mode="after")
    def _real_dependencies(self) -> Resilience:
        for service, patch in self.initial.items():
            _unknown_dependency(service, patch, "initial", service)
        return self


class LatencySlo(Base):
    """`target` of checkouts answer within `threshold` (a histogram bucket boundary)."""

    threshold_s: Span = Field(alias="threshold")
    target: Ratio

    @model_validator(mode="after")
    def _on_a_bucket(self) -> LatencySlo:
        if not any(math.isclose(self.threshold_s, b, rel_tol=1e-9) for b in LATENCY_BUCKETS):
            buckets = ", ".join(fmt_s(b) for b in LATENCY_BUCKETS)
            raise problem(
                f"{fmt_s(self.threshold_s)} is not a latency bucket boundary, so it cannot be "
                f"measured exactly; use one of {buckets}",
                "threshold",
            )
        return self


class Slos(Base):
    """Service level objectives the verdict scores (shares in (0, 1))."""

    checkout_availability: Ratio = 0.99
    checkout_latency: LatencySlo = LatencySlo(threshold=2.5, target=0.95)
    browse_availability: Ratio = 0.995


class Expectations(Base):
    """What the rehearsal is expected to show; the verdict checks each one given."""

    culprit: ServiceName | None = Field(default=None, description="the service at the root of it")
    detected_within_s: Span | None = Field(
        default=None, alias="detected_within", description="from the first fault's start"
    )
    recovers_within_s: Span | None = Field(
        default=None, alias="recovers_within", description="from the last fault's end"
    )
    metastable: bool | None = Field(
        default=None,
        description="true: checkout stays down after the trigger ends (a sustaining loop)",
    )
    integrity_clean: bool | None = Field(
        default=None, description="false: data is expected to be harmed"
    )
    slo_breaches: list[SloName] | None = Field(
        default=None,
        description="SLOs this rehearsal is expected to breach (any other breach fails it)",
    )
    thresholds: dict[Literal[THRESHOLDS], Number] = Field(  # type: ignore[valid-type]  # mypy wants literal values; these are built from FIGURES
        default_factory=dict,
        description="bounds on the verdict's figures: FIGURE_min or FIGURE_max -> number",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Expectations:
        if self.metastable and self.recovers_within_s is not None:
            raise problem("true contradicts recovers_within (it never recovers)", "metastable")
        return self


class StatusPage(Base):
    """Whether the game day posts to the storefront's status page from its alerts."""

    auto_post: bool = Field(
        default=False,
        description="open an incident when a page-level alert fires, update it, resolve it; "
        "false leaves the status page silent, as in the reference incident",
    )
    update_every_s: Span = Field(
        default=10.0, alias="update_every", description="an update at least this often"
    )
    resolve_after_s: Instant = Field(
        default=5.0,
        alias="resolve_after",
        description="how long the alerts stay quiet (monitoring) before the incident resolves",
    )


class StopCondition(Base):
    """End the run early when `metric` stays above (or below) a value `for` this long."""

    metric: StopMetric
    above: Number | None = None
    below: Number | None = None
    for_s: Instant = Field(alias="for")

    @model_validator(mode="after")
    def _one_bound(self) -> StopCondition:
        if (self.above is None) == (self.below is None):
            raise problem("give exactly one of above or below")
        key, value = ("above", self.above) if self.above is not None else ("below", self.below)
        assert value is not None
        never = value < 0 or (key == "below" and value == 0)
        if self.metric in RATIO_METRICS:  # a share: above 1 (or below more than 1) is nonsense
            never = never or value > 1 or (key == "above" and value == 1)
        if never:
            range_ = "0..1" if self.metric in RATIO_METRICS else "never negative"
            raise problem(f"{self.metric} is {range_}: {key} {value:g} never fires", key)
        return self


class Scenario(Base):
    """A shopsim game-day scenario: one file, one timeline (see loadtests/scenarios/)."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    summary: (
        Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\n]*\S[^\n]*$")] | None
    ) = Field(default=None, description="one line for `shopsim scenarios`")
    description: Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"\S")]
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 1
    duration_s: Span = Field(
        alias="duration", description="the whole run: covers the load stages and every fault"
    )
    load: Load
    store: Store = Store()
    faults: Annotated[list[FaultEntry], Field(max_length=200)] = Field(default_factory=list)
    resilience: Resilience = Resilience()
    slos: Slos = Slos()
    expectations: Expectations = Expectations()
    status_page: StatusPage = StatusPage()
    stop_conditions: Annotated[list[StopCondition], Field(max_length=20)] = Field(
        default_factory=list
    )

    def headline(self) -> str:
        """One line about the scenario: its summary, else its description's first sentence."""
        if self.summary:
            return self.summary.strip()
        first = " ".join(self.description.split()).split(". ")[0].removesuffix(".")
        return first if len(first) <= 100 else first[:99] + "…"

    @model_validator(mode="after")
    def _fits_in_duration(self) -> Scenario:
        end = f"the scenario's duration {fmt_s(self.duration_s)}"
        if self.load.total_s() > self.duration_s:
            total = fmt_s(self.load.total_s())
            raise problem(f"the stages last {total} in all, longer than {end}", "load", "stages")
        names: list[tuple[str, FaultEntry]] = []
        for i, fault in enumerate(self.faults):
            if fault.end_s > self.duration_s:
                at, lasts = fmt_s(fault.at_s), fmt_s(fault.duration_s)
                ends = f"ends at {fmt_s(fault.end_s)} (at {at} + duration {lasts})"
                raise problem(f"{ends}, after {end}", "faults", i)
            name = fault.spec.name
            for j, (other, earlier) in enumerate(names):  # the chaos API refuses a name twice
                if other == name and fault.at_s < earlier.end_s and earlier.at_s < fault.end_s:
                    clash = f"under the same name {name!r}; give one of them another name"
                    raise problem(f"is active at the same time as faults[{j}] {clash}", "faults", i)
            names.append((name, fault))
        if over := budget.first_over([(f.at_s, f.end_s, f.spec) for f in self.faults]):
            raise problem(over[1], "faults", over[0])  # the chaos API would refuse it mid-run
        for i, change in enumerate(self.resilience.changes):
            if change.at_s > self.duration_s:
                at = fmt_s(change.at_s)
                raise problem(f"{at} is after {end}", "resilience", "changes", i, "at")
        for i, stop in enumerate(self.stop_conditions):
            if stop.for_s > self.duration_s:
                longer = f"{fmt_s(stop.for_s)} is longer than {end}"
                raise problem(longer, "stop_conditions", i, "for")
        self._check_expectations()
        return self

    def _check_expectations(self) -> None:
        expect, end = self.expectations, f"the scenario's duration {fmt_s(self.duration_s)}"
        for key in ("detected_within", "recovers_within"):
            value = getattr(expect, f"{key}_s")
            if value is not None and value > self.duration_s:
                longer = f"{fmt_s(value)} is longer than {end}"
                raise problem(longer, "expectations", key)
        last = max((f.end_s for f in self.faults), default=None)
        within = expect.recovers_within_s
        if within is not None and last is not None and last + within > self.duration_s:
            raise problem(
                f"the last fault ends at {fmt_s(last)}, so the run must last at least "
                f"{fmt_s(last + within)} to see it recover (it lasts {fmt_s(self.duration_s)})",
                *("expectations", "recovers_within"),
            )
