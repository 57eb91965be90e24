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

Specs are validated as a whole before anything is applied; an error names the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shopsim.errors import BadRequest, Unprocessable
from shopsim.settings import DEPENDENCIES, SERVICE_NAMES
from shopsim.validation import parse_model

MAX_DURATION_S = 3600.0
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*")  # used with fullmatch
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class FaultSpec(BaseModel):
    """The validated envelope of one fault (its params are checked against its type)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    type: str
    target: str
    direction: Literal["inbound", "outbound"]
    route: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "*"
    probability: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    duration_s: Annotated[float, Field(gt=0.0, le=MAX_DURATION_S, allow_inf_nan=False)]
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("target")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICE_NAMES:
            raise ValueError(f"unknown service {value!r}; one of {', '.join(SERVICE_NAMES)}")
        return value


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


def build_spec(data: Any) -> tuple[FaultSpec, BaseModel]:
    """Validate a raw spec: the envelope, then the type's parameters; 400 naming the field."""
    try:
        return _build(data)
    except Unprocessable as err:
        raise BadRequest(err.message, field=err.field, code="invalid_fault") from None


def _build(data: Any) -> tuple[FaultSpec, BaseModel]:
    from shopsim.faults.table import FAULT_TYPES  # the table imports every type module

    if not isinstance(data, dict):
        raise Unprocessable("a fault spec is a JSON object", field="body")
    raw = dict(data)
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise Unprocessable("type is required: the kind of fault", field="type")
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
    if spec.direction == "outbound" and not any(spec.target in d for d in DEPENDENCIES.values()):
        raise Unprocessable(
            f"no service calls {spec.target}, so an outbound fault on it would do nothing",
            field="direction",
        )
    params = parse_model(fault_type.Params, spec.params, prefix="params")
    spec = spec.model_copy(update={"params": params.model_dump()})
    if not named:
        spec = spec.model_copy(update={"name": _derived_name(spec)})
    return spec, params


def _derived_name(spec: FaultSpec) -> str:
    """kind-target-hash of the rest: reproducible, so a replayed scenario draws the same way."""
    content = json.dumps(spec.model_dump(mode="json", exclude={"name"}), sort_keys=True)
    digest = hashlib.sha256(content.encode()).hexdigest()[:6]
    return f"{spec.type.replace('_', '-')}-{spec.target}-{digest}"
