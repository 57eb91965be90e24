"""A scenario's fault entry: `at`, plus the fields of a FaultSpec (its duration written
`duration`, text or seconds).

The entry holds the FaultSpec, built once by build_spec exactly as `shopsim fault add` builds it,
and the timeline passes it on as it is. Its JSON Schema is generated from FaultSpec's own fields,
so the envelope is declared in one place (shopsim.faults.spec).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema

from shopsim.errors import ShopsimError
from shopsim.faults.spec import FaultSpec, build_spec
from shopsim.gameday.fields import Base, FaultSpan, Instant, problem, split_path

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
        params: dict[str, Any] = self.spec.written().get("params", {})
        return params

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
