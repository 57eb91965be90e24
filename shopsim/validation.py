"""Request parsing: JSON bodies and query strings into pydantic models, errors naming the field.

Malformed JSON and a body that is not an object are 400; a missing, unknown or mistyped field,
or a value out of range, is 422 with the field's dotted path (``items[0].quantity``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from flask import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shopsim.errors import BadRequest, Unprocessable

M = TypeVar("M", bound=BaseModel)

#: Types shared by the services' request models.
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,31}$")]
CustomerId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Quantity = Annotated[int, Field(ge=1, le=99)]
Cents = Annotated[int, Field(ge=0, le=100_000_000)]
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[!-~]+$")
]  # printable ASCII without spaces: it travels as an HTTP header
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Model(BaseModel):
    """Base for request bodies: strict types, unknown fields refused, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Query(BaseModel):
    """Base for query strings: values arrive as text, so numbers are parsed (lax mode)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(Model):
    """One line of a body that lists goods: a SKU and how many of it."""

    sku: Sku
    quantity: Quantity


def distinct_skus(lines: Sequence[Line], field: str = "items") -> None:
    """Refuse a list that names one SKU twice: 422 code "duplicate_sku" at the second line."""
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.sku in seen:
            raise Unprocessable(
                f"{line.sku} appears twice", field=f"{field}[{i}].sku", code="duplicate_sku"
            )
        seen.add(line.sku)


def field_path(loc: tuple[Any, ...]) -> str:
    """('items', 0, 'quantity') -> 'items[0].quantity'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def _raise_first(exc: ValidationError, prefix: str = "") -> None:
    err = exc.errors(include_url=False)[0]
    path = field_path(tuple(err["loc"]))
    if prefix:
        path = prefix if path == "body" else f"{prefix}.{path}"
    kind = err["type"]
    if kind == "missing":
        message = f"{path} is required"
    elif kind == "extra_forbidden":
        message = f"{path} is not a known field"
    else:
        message = f"{path}: {err['msg'].removeprefix('Value error, ')}"
    raise Unprocessable(message, field=path)


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """Validate already-decoded data against a model."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        _raise_first(exc, prefix)
        raise  # unreachable: _raise_first always raises


def parse_body(request: Request, model: type[M]) -> M:
    """Decode a JSON object body and validate it against `model`."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("request body must be a JSON object", field="body", code="malformed_json")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}", field="body", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object", field="body", code="malformed_json")
    return parse_model(model, data)


def parse_query(args: Mapping[str, str], model: type[M]) -> M:
    """Validate a query string against `model` (unknown parameters are refused)."""
    return parse_model(model, dict(args))
