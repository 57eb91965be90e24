"""Request parsing: JSON bodies and query strings into pydantic models, errors naming the field.

Malformed JSON and a body that is not an object are 400; a missing, unknown or mistyped field,
or a value out of range, is 422 with the field's dotted path (``items[0].quantity``).

`read_json_object` is the one JSON body reader of every service (the chaos API included). JSON
has one number type, so it reads numbers the way JSON Schema (and the OpenAPI document) counts
them: ``22.0`` is the integer 22, ``22.5`` is not an integer. It refuses what would otherwise
fail deep inside a service: nesting deeper than `MAX_JSON_DEPTH` (the decoder would overflow
the stack), ``NaN``/``Infinity`` (not JSON), and strings with lone surrogates (not text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NoReturn, TypeVar

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


#: Deeper than any request model (a body, a list, an object in it): refused before decoding.
MAX_JSON_DEPTH = 32
#: Longer integers are read as out of range (infinite), not handed to int(), which refuses
#: more than 4300 digits with an error that names no field.
MAX_INT_DIGITS = 4000
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')  # a string, or a bracket
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _malformed(message: str) -> BadRequest:
    return BadRequest(message, field="body", code="malformed_json")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `raw` nests arrays and objects more than `limit` deep (brackets in strings
    do not count)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case, answered at C speed
    depth = 0
    for token in _JSON_TOKEN.finditer(raw):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in (b"]", b"}"):
            depth -= 1
    return False


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def _integer(text: str) -> float | int:
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)  # float: +-inf


def _not_json(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def read_json(raw: bytes) -> Any:
    """Decode a JSON body; 400 ``malformed_json`` (field ``body``) for anything that is not
    plain JSON text within the depth limit."""
    if json_depth_exceeds(raw):
        raise _malformed(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw, parse_float=_number, parse_int=_integer, parse_constant=_not_json)
    except RecursionError:  # unreachable after the depth check; kept so it can never be a 500
        raise _malformed(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise _malformed(f"malformed JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed("malformed JSON: a string holds a lone surrogate") from None
    return data


def read_json_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object (any content type), or 400 naming ``body``."""
    raw = request.get_data(cache=True)
    data = read_json(raw) if raw else None
    if not isinstance(data, dict):
        raise _malformed("request body must be a JSON object")
    return data


def parse_body(request: Request, model: type[M]) -> M:
    """Decode a JSON object body and validate it against `model`."""
    return parse_model(model, read_json_object(request))


def parse_query(args: Mapping[str, str], model: type[M]) -> M:
    """Validate a query string against `model` (unknown parameters are refused)."""
    return parse_model(model, dict(args))
