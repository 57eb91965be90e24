"""A game-day scenario: load, faults, resilience, SLOs, expectations and stop conditions on one
timeline, with a seed.

    Scenario    name, summary, description, seed, duration, load: Load (model, stages [Stage],
                mix Mix, max_in_flight), store: Store, faults [FaultEntry], resilience:
                Resilience (initial, changes [ResilienceChange]), slos: Slos, expectations:
                Expectations, stop_conditions [StopCondition]

The models hold float seconds in attributes named `*_s` (`duration_s`, `at_s`, `for_s`),
aliased to the file's keys (`duration`, `at`, `for`). Every model is strict and refuses unknown
fields. A fault entry is `at` plus the fields of a FaultSpec (its duration written `duration`):
its spec is built once, by build_spec, exactly as `shopsim fault add` builds it, and passed on
as it is. Load and Store live in shopsim.gameday.loadspec; the field types and the error helper
in shopsim.gameday.fields.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from shopsim.errors import ShopsimError
from shopsim.faults import budget
from shopsim.faults.policy import ResiliencePatch
from shopsim.faults.spec import FaultSpec, build_spec
from shopsim.gameday.fields import (
    RATIO_METRICS,
    STOP_METRICS,
    Base,
    FaultSpan,
    Instant,
    Number,
    Ratio,
    ServiceName,
    Span,
    check_time_scale,
    fmt_s,
    problem,
    split_path,
)
from shopsim.gameday.loadspec import Load, Store
from shopsim.metrics import LATENCY_BUCKETS
from shopsim.settings import DEPENDENCIES

__all__ = ["Load", "Scenario", "Store", "check_time_scale"]  # re-exported for callers


#: A fault entry's keys that belong to its spec: FaultSpec's fields, but for its duration.
ENVELOPE = tuple(key for key in FaultSpec.model_fields if key != "duration_s")
#: Of those, what a file may leave out or set to null: build_spec fills them in.
OPTIONAL = ("name", "direction", "route")
_DURATION = TypeAdapter(FaultSpan, config=ConfigDict(strict=True))


def _entry_schema(schema: dict[str, Any]) -> None:
    """A fault entry as a file writes it: `at`, `duration`, then FaultSpec's own fields."""
    spec = FaultSpec.model_json_schema(mode="validation")
    required = [key for key in spec["required"] if key in ENVELOPE and key not in OPTIONAL]
    fields: dict[str, Any] = {"at": schema["properties"]["at"]}
    fields["duration"] = _DURATION.json_schema() | {"title": "Duration"}
    for key in sorted(ENVELOPE, key=lambda k: k not in required):  # what is required first
        field = dict(spec["properties"][key])
        if key in OPTIONAL:
            title, _ = field.pop("title"), field.pop("default", None)
            field = {"anyOf": [field, {"type": "null"}], "default": None, "title": title}
        fields[key] = field
    schema["properties"] = fields
    schema["required"] = ["at", "duration", *required]


class FaultEntry(Base):
    """A fault from `at` for `duration`: the envelope and params of `shopsim fault add`."""

    model_config = ConfigDict(json_schema_extra=_entry_schema)

    at_s: Instant = Field(alias="at")
    spec: SkipJsonSchema[FaultSpec]  # the rest of the entry, built once

    @property
    def type(self) -> str:
        """The fault's type."""
        return self.spec.type

    @property
    def target(self) -> str:
        """The service it is about."""
        return self.spec.target

    @property
    def duration_s(self) -> float:
        """How long it lasts."""
        return self.spec.duration_s

    @property
    def params(self) -> dict[str, Any]:
        """Its params that differ from the type's defaults."""
        return self.spec.written().get("params", {})  # type: ignore[no-any-return]

    @property
    def end_s(self) -> float:
        """When the fault ends, from the start of the run."""
        return self.at_s + self.duration_s

    @model_validator(mode="before")
    @classmethod
    def _build_spec(cls, data: Any) -> Any:
        """The entry's spec, built from its envelope keys and its duration."""
        if not isinstance(data, dict):
            return data
        out = {key: value for key, value in data.items() if key not in (*ENVELOPE, "duration")}
        raw = {
            k: data[k] for k in ENVELOPE if k in data and not (k in OPTIONAL and data[k] is None)
        }
        if "duration" not in data:
            raise problem("is required", "duration")
        try:
            raw["duration_s"] = _DURATION.validate_python(data["duration"])
        except ValidationError as exc:
            raise problem(
                exc.errors()[0]["msg"].removeprefix("Value error, "), "duration"
            ) from None
        try:
            out["spec"] = build_spec(raw)  # checked exactly as `shopsim fault add` checks it
        except ShopsimError as err:
            field = err.field or ""
            message = err.message.removeprefix(f"{field}: ") if field else err.message
            message = message.removeprefix(f"{field} ") if field else message  # "x is required"
            raise problem(message, *split_path(field)) from None
        return out


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
    thresholds: dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")], Number
    ] = Field(default_factory=dict, description="free-form name -> number")

    @model_validator(mode="after")
    def _consistent(self) -> Expectations:
        if self.metastable and self.recovers_within_s is not None:
            raise problem("true contradicts recovers_within (it never recovers)", "metastable")
        return self


class StopCondition(Base):
    """End the run early when `metric` stays above (or below) a value `for` this long."""

    metric: Literal[STOP_METRICS]  # type: ignore[valid-type]
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
