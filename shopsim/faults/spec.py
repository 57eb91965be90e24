"""A fault's envelope: what every fault has, whatever its type.

    name         unique per service, [a-z0-9][a-z0-9_-]*; when absent, derived from the rest
                 of the spec (so the same spec gets the same name, and the same RNG stream)
    type         a key of shopsim.faults.table.FAULT_TYPES
    target       the service the fault is about
    direction    inbound: the target's own handling of requests;
                 outbound: every caller's requests *to* the target
    route        for inbound faults, a glob over route templates (default every route)
    probability  drawn per request from the fault's seeded RNG, in [0, 1]
    duration_s   mandatory, at most MAX_DURATION_S: every fault expires by itself
    params       the type's own parameters, validated by the type's Params model

`build_spec` validates a raw spec as a whole before anything is applied (an error names the
field) and is the only way a `FaultSpec` is made: it carries its type's validated parameters
from then on, so a spec built once (a scenario's, when it is loaded) is passed on as it is. The
chaos API of each service builds it again from the JSON it receives: the process boundary.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    WithJsonSchema,
)

from shopsim.errors import BadRequest, Unprocessable
from shopsim.faults.base import FaultType
from shopsim.faults.table import FAULT_TYPES
from shopsim.settings import DEPENDENCIES, SERVICE_NAMES
from shopsim.validation import parse_model

MAX_DURATION_S = 3600.0
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*")  # used with fullmatch
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _known_service(value: str) -> str:
    if value not in SERVICE_NAMES:
        raise ValueError(f"unknown service {value!r}; one of {', '.join(SERVICE_NAMES)}")
    return value


#: A service's name (the JSON Schema lists them).
ServiceName = Annotated[
    str,
    AfterValidator(_known_service),
    WithJsonSchema({"type": "string", "enum": list(SERVICE_NAMES)}),
]
#: A fault type's name: a key of the table (build_spec says which are known).
TypeName = Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(FAULT_TYPES)})]


class FaultSpec(BaseModel):
    """The validated envelope of one fault, its params checked against its type (build_spec)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    type: TypeName
    target: ServiceName
    direction: Literal["inbound", "outbound"]
    route: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "*"
    probability: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    duration_s: Annotated[float, Field(gt=0.0, le=MAX_DURATION_S, allow_inf_nan=False)]
    params: dict[str, Any] = Field(default_factory=dict)  # complete: defaults filled in

    _params: BaseModel | None = PrivateAttr(default=None)  # the same, as the type's Params
    _derived: bool = PrivateAttr(default=False)  # named from its content, not by its author

    def params_model(self) -> BaseModel:
        """The params as the type's own Params model."""
        if self._params is None:  # made without build_spec (model_validate): checked here once
            self._params = parse_model(FAULT_TYPES[self.type].Params, self.params, "params")
        return self._params

    def kind(self) -> FaultType[BaseModel]:
        """A new instance of the fault's type, with its parameters."""
        return FAULT_TYPES[self.type](self.params_model())

    def services(self) -> tuple[str, ...]:
        """The services that carry it out: its target, or (outbound) every caller of it."""
        if self.direction == "inbound":
            return (self.target,)
        return tuple(s for s, deps in DEPENDENCIES.items() if self.target in deps)

    def scaled(self, time_scale: float) -> FaultSpec:
        """This fault lasting `duration_s / time_scale`; a derived name is derived anew.

        ValueError when the duration no longer fits (a time scale below 1 stretches it)."""
        if time_scale == 1:
            return self
        seconds = self.duration_s / time_scale
        if not 0 < seconds <= MAX_DURATION_S:
            raise ValueError(
                f"{self.name}: its duration at time scale {time_scale:g} is {seconds:g}s; a "
                f"fault lasts more than 0 and at most {MAX_DURATION_S:.0f}s"
            )
        spec = self.model_copy(update={"duration_s": seconds})
        return spec.model_copy(update={"name": _derived_name(spec)}) if self._derived else spec

    def written(self) -> dict[str, Any]:
        """The raw spec that builds this one, without what goes without saying: a derived
        name, the type's default direction, route *, probability 1, default params."""
        out: dict[str, Any] = {"type": self.type, "target": self.target}
        out["duration_s"] = self.duration_s
        if not self._derived:
            out["name"] = self.name
        if self.direction != FAULT_TYPES[self.type].directions[0]:
            out["direction"] = self.direction
        if self.route != "*":
            out["route"] = self.route
        if self.probability != 1.0:
            out["probability"] = self.probability
        if params := self.params_model().model_dump(exclude_defaults=True):
            out["params"] = params
        return out


def parse_duration(text: str | float | int) -> float:
    """'90', '90s', '1.5m', '500ms', '1h' -> seconds (ValueError when malformed)."""
    if isinstance(text, bool):
        raise ValueError("a duration is a number of seconds or text like 60s, 5m")
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration (examples: 60s, 5m, 500ms)")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def build_spec(data: Any) -> FaultSpec:
    """Validate a raw spec: the envelope, then the type's parameters; 400 naming the field."""
    try:
        return _build(data)
    except Unprocessable as err:
        raise BadRequest(err.message, field=err.field, code="invalid_fault") from None


def _build(data: Any) -> FaultSpec:
    if not isinstance(data, Mapping):
        raise Unprocessable("a fault spec is a JSON object", field="body")
    raw = dict(data)
    kind = raw.get("type")
    if kind is None:
        raise Unprocessable("type is required: the kind of fault", field="type")
    if not isinstance(kind, str):
        raise Unprocessable("type: Input should be a valid string", field="type")
    if kind not in FAULT_TYPES:
        known = ", ".join(sorted(FAULT_TYPES))
        raise Unprocessable(f"unknown fault type {kind!r}; known: {known}", field="type")
    fault_type = FAULT_TYPES[kind]
    raw.setdefault("direction", fault_type.directions[0])
    if "duration" in raw and "duration_s" not in raw:
        try:
            raw["duration_s"] = parse_duration(raw.pop("duration"))
        except ValueError as exc:
            raise Unprocessable(f"duration: {exc}", field="duration") from None
        if not 0 < raw["duration_s"] <= MAX_DURATION_S:
            raise Unprocessable(
                f"duration must be more than 0 and at most {MAX_DURATION_S:.0f}s", field="duration"
            )
    if "duration_s" not in raw:
        raise Unprocessable(
            f"duration_s is required (at most {MAX_DURATION_S:.0f}): every fault must expire",
            field="duration_s",
        )
    named = "name" in raw
    raw.setdefault("name", "unnamed")  # a placeholder, so errors name the field really at fault
    spec = parse_model(FaultSpec, raw)
    if spec.direction not in fault_type.directions:
        allowed = " or ".join(fault_type.directions)
        raise Unprocessable(f"{kind} faults are {allowed}, not {spec.direction}", field="direction")
    if fault_type.targets and spec.target not in fault_type.targets:
        allowed = ", ".join(fault_type.targets)
        raise Unprocessable(f"{kind} applies to {allowed} only", field="target")
    if spec.direction == "outbound" and spec.route != "*":
        raise Unprocessable("route selects an inbound fault's routes; omit it here", field="route")
    if spec.direction == "outbound" and not spec.services():
        raise Unprocessable(
            f"no service calls {spec.target}, so an outbound fault on it would do nothing",
            field="direction",
        )
    params = parse_model(fault_type.Params, spec.params, prefix="params")
    spec = spec.model_copy(update={"params": params.model_dump()})
    if not named:
        spec = spec.model_copy(update={"name": _derived_name(spec)})
    spec._params, spec._derived = params, not named
    return spec


def _derived_name(spec: FaultSpec) -> str:
    """kind-target-hash of the rest: reproducible, so a replayed scenario draws the same way."""
    content = json.dumps(spec.model_dump(mode="json", exclude={"name"}), sort_keys=True)
    digest = hashlib.sha256(content.encode()).hexdigest()[:6]
    return f"{spec.type.replace('_', '-')}-{spec.target}-{digest}"
