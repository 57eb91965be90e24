"""The inbound adapter: a Flask hook that carries out fault actions on the target service.

Runs after admission control, so a delayed request holds a worker thread and counts in flight,
as a slow handler does. Operator paths (/metrics, /healthz, /_chaos) are never faulted.
Dropping a connection uses the socket gunicorn hands the app; under a test client, which has
none, a drop becomes a response cut short, which a client sees the same way.

The target's own metrics record a request dropped unanswered (hang, outage) with status 444,
nginx's "closed without response", and a reset with the status it had answered: the work was
done, only the answer was lost.

A held request (latency, hang) waits on its fault, not on a clock alone: removing the fault,
a reset or its expiry lets it go at once, and it is then served as usual.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, jsonify, request

from shopsim.errors import Unavailable
from shopsim.faults.base import Delay, Hang, Limit, Refuse, Reset, Respond
from shopsim.faults.state import Faults

DROPPED = 444


def _abort_socket(environ: dict[str, Any]) -> None:
    """Make the connection end with a TCP reset instead of a response."""
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _dropped(status: int) -> Response:
    """A response whose connection is gone before (most of) its body."""
    environ = request.environ

    def body() -> Iterator[bytes]:
        yield b'{"partial": '
        _abort_socket(environ)

    response = Response(body(), status=status, mimetype="application/json")
    response.headers["Content-Length"] = "4096"  # promised, never delivered
    return response


def init_app(app: Flask, faults: Faults, operator_prefixes: tuple[str, ...]) -> None:
    """Apply inbound faults to every customer-facing request of `app`."""

    @app.before_request
    def _inbound_faults() -> Response | None:
        if request.path.startswith(operator_prefixes):
            return None
        route = request.url_rule.rule if request.url_rule else request.path
        for fault in faults.inbound(route):
            action = fault.draw()
            if action is None:
                continue
            if isinstance(action, Delay):
                fault.hold(action.seconds)
            elif isinstance(action, Respond):
                response = jsonify(action.body)
                response.status_code = action.status
                response.headers.update(action.headers)
                return response
            elif isinstance(action, Hang):
                if fault.hold(action.seconds):  # else the fault ended: serve it after all
                    _abort_socket(request.environ)
                    return _dropped(DROPPED)
            elif isinstance(action, Refuse):
                _abort_socket(request.environ)
                return _dropped(DROPPED)
            elif isinstance(action, Reset):
                g.fault_reset = True
            elif isinstance(action, Limit):
                if not action.gate.acquire(timeout=action.wait_s):
                    raise Unavailable(
                        f"{faults.service} is throttled to {action.concurrency} at a time",
                        code="throttled",
                        headers={"Retry-After": "1"},
                    )
                g.setdefault("fault_gates", []).append(action.gate)
        return None

    @app.after_request
    def _reset_midway(response: Response) -> Response:
        if g.pop("fault_reset", False):
            return _dropped(response.status_code)
        return response

    @app.teardown_request
    def _release_gates(_exc: BaseException | None) -> None:
        for gate in g.pop("fault_gates", []):
            gate.release()
