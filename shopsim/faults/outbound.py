"""The outbound adapter: an httpx transport that carries out fault actions on a caller's side.

It wraps the transport a `Dependency` sends through, so a fault aimed at a dependency shows up
exactly where a real one would: as latency, errors or connection failures in the caller's
client, its retries and its dependency metrics.

A held call (latency, hang) waits on its fault: removal, reset or expiry lets it go on at once.

It also treats a body that ends before its Content-Length as a dropped connection, as httpx's
HTTP/1.1 parser does on a socket: in-process (WSGI) transports do not check, and without this an
inbound hang, outage or reset on the target would reach the caller as a 200 with half a body.
"""

from __future__ import annotations

import threading

import httpx

from shopsim.faults.base import Delay, Hang, Limit, Refuse, Reset, Respond
from shopsim.faults.state import Faults


class FaultTransport(httpx.BaseTransport):
    """Applies the outbound faults aimed at `dependency`, then sends through `inner`."""

    def __init__(self, inner: httpx.BaseTransport, faults: Faults, dependency: str) -> None:
        self._inner = inner
        self._faults = faults
        self._dependency = dependency

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        gates: list[threading.Semaphore] = []
        try:
            reset = False
            for fault in self._faults.outbound(self._dependency):
                action = fault.draw()
                if action is None:
                    continue
                if isinstance(action, Delay):
                    fault.hold(action.seconds)
                elif isinstance(action, Respond):
                    return httpx.Response(
                        action.status, json=action.body, headers=action.headers, request=request
                    )
                elif isinstance(action, Hang):  # a hold cut short by the fault's end goes on
                    read_timeout = (request.extensions.get("timeout") or {}).get("read")
                    if read_timeout is not None and read_timeout <= action.seconds:
                        if fault.hold(read_timeout):
                            raise httpx.ReadTimeout("fault: no answer in time", request=request)
                    elif fault.hold(action.seconds):
                        raise httpx.RemoteProtocolError(
                            "fault: dropped unanswered", request=request
                        )
                elif isinstance(action, Refuse):
                    raise httpx.ConnectError("fault: connection refused", request=request)
                elif isinstance(action, Reset):
                    reset = True
                elif isinstance(action, Limit):
                    if not action.gate.acquire(timeout=action.wait_s):
                        raise httpx.PoolTimeout("fault: throttled", request=request)
                    gates.append(action.gate)
            response = self._inner.handle_request(request)
            if reset:
                response.read()  # the work happened; the answer is lost on the way back
                response.close()
                raise httpx.RemoteProtocolError("fault: connection reset by peer", request=request)
            return _complete(response, request)
        finally:
            for gate in gates:
                gate.release()

    def close(self) -> None:
        self._inner.close()


def _complete(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """The response, read whole; RemoteProtocolError when its body is cut short."""
    declared = response.headers.get("Content-Length", "")
    bodiless = request.method == "HEAD" or response.status_code in (204, 304)
    if bodiless or not declared.isdigit() or "Content-Encoding" in response.headers:
        return response
    body = response.read()
    response.close()
    if len(body) < int(declared):
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=request
        )
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=body,
        request=request,
        extensions=response.extensions,
    )
