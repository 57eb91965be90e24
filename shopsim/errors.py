"""Domain errors, and the one place they become JSON responses.

    ShopsimError                 status  code
    ├── BadRequest               400     bad_request / malformed_json
    ├── PaymentRequired          402     card_declined
    ├── NotFound                 404     not_found
    ├── Conflict                 409     conflict, insufficient_stock, idempotency_key_reused, ...
    ├── PayloadTooLarge          413     payload_too_large
    ├── Unprocessable            422     invalid_field
    └── Unavailable              503     overloaded / dependency_failed

Every error names the field it is about when there is one, so a caller can fix its request.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("shopsim")


class ShopsimError(Exception):
    """Base of every error a service answers with on purpose."""

    status = 500
    code = "internal"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body: {"error": {"code", "message", "field"?, ...}}."""
        err: dict[str, Any] = dict(self.extra)  # the fixed keys below always win
        err.update(code=self.code, message=self.message)
        if self.field is not None:
            err["field"] = self.field
        return {"error": err}


class BadRequest(ShopsimError):
    status = 400
    code = "bad_request"


class PaymentRequired(ShopsimError):
    status = 402
    code = "card_declined"


class NotFound(ShopsimError):
    status = 404
    code = "not_found"


class Conflict(ShopsimError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ShopsimError):
    status = 413
    code = "payload_too_large"


class Unprocessable(ShopsimError):
    status = 422
    code = "invalid_field"


class Unavailable(ShopsimError):
    status = 503
    code = "unavailable"


#: Downstream statuses a caller may pass through unchanged: the caller's own mistakes.
PASS_THROUGH_STATUSES = frozenset({400, 402, 404, 409, 413, 422})

_BY_STATUS: dict[int, type[ShopsimError]] = {
    cls.status: cls
    for cls in (BadRequest, PaymentRequired, NotFound, Conflict, PayloadTooLarge, Unprocessable)
}


def from_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> ShopsimError:
    """Rebuild the error a dependency answered with (and its Retry-After) for our own caller."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {"code": "upstream_error", "message": f"dependency answered {status}"}
    cls = _BY_STATUS.get(status, Unavailable)
    extra = {k: v for k, v in err.items() if k not in ("code", "message", "field")}
    retry_after = (headers or {}).get("Retry-After")
    return cls(
        str(err.get("message", "")),
        field=err.get("field"),
        code=str(err.get("code", cls.code)),
        extra=extra,
        headers={"Retry-After": retry_after} if retry_after else None,
    )


def incident_reference() -> str:
    """A short reference a customer can quote to support."""
    return "INC-" + secrets.token_hex(4).upper()


def init_app(app: Flask) -> None:
    """Turn every error, ours or the framework's, into JSON with the right status."""

    @app.errorhandler(ShopsimError)
    def _domain(err: ShopsimError) -> Response:
        response = jsonify(err.body())
        response.status_code = err.status
        for key, value in err.headers.items():
            response.headers[key] = value
        return response

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            400: "bad_request",
        }.get(err.code or 500, "http_error")
        body: dict[str, Any] = {"code": code, "message": err.description or err.name}
        if err.code == 405:
            body["message"] = f"{request.method} is not allowed on {request.path}"
        if err.code == 413:
            body["field"] = "body"
            body["message"] = f"request body exceeds {app.config['MAX_CONTENT_LENGTH']} bytes"
        response = jsonify({"error": body})
        response.status_code = err.code or 500
        if err.code == 405:
            allowed = err.get_response().headers.get("Allow")
            if allowed:
                response.headers["Allow"] = allowed
        return response

    @app.errorhandler(Exception)
    def _bug(err: Exception) -> Response:
        ref = incident_reference()
        log.exception("unhandled error %s on %s %s", ref, request.method, request.path)
        response = jsonify(
            {"error": {"code": "internal", "message": "internal error", "incident": ref}}
        )
        response.status_code = 500
        return response
