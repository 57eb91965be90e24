"""Run one service under gunicorn: ``python -m shopsim.serve SERVICE``.

Settings arrive as JSON in ``SHOPSIM_SETTINGS``. One gthread worker per service keeps
prometheus-client in single-process mode, and its thread count is the service's capacity, so
overload queues and times out the way it does in production. Requests gunicorn refuses itself,
before the app sees them (a request line over ``limit_request_line``, oversized headers, a
garbled request line), get the house JSON error too, not gunicorn's HTML page.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidHeaderName,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    LimitRequestHeaders,
    LimitRequestLine,
)
from gunicorn.workers.gthread import ThreadWorker

from shopsim.app import OPERATOR_PORT_ENVIRON, OPERATOR_PREFIXES, create_app
from shopsim.context import of
from shopsim.runner import die_with_parent
from shopsim.settings import SERVICE_NAMES, SETTINGS_ENV, Settings


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Scrapes come every second: don't log each one."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_operator_paths(app: Any, host: str, port: int) -> WSGIServer:
    """Serve the operator paths (metrics, health, chaos, status writes) from threads of their own.

    gunicorn's worker threads all wait on customers when a service saturates; this server's
    threads do not, so monitoring and fault control keep answering. Other paths get 404.
    """

    def operator_only(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(OPERATOR_PREFIXES):
            environ[OPERATOR_PORT_ENVIRON] = True
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"operator port: only /metrics, /healthz, /_chaos and /_status are served here\n"]

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("OperatorServer", (_ThreadingServer,), {"address_family": family})
    server: WSGIServer = make_server(host, port, operator_only, server_class, _QuietHandler)
    threading.Thread(target=server.serve_forever, name="operator-port", daemon=True).start()
    return server


#: What gunicorn refuses before the app runs: (exceptions, status, error code, field).
REFUSALS: tuple[tuple[tuple[type[Exception], ...], int, str, str], ...] = (
    ((LimitRequestLine,), 414, "uri_too_long", "url"),
    ((LimitRequestHeaders,), 431, "headers_too_large", "headers"),
    ((InvalidRequestLine, InvalidRequestMethod, InvalidHTTPVersion), 400, "bad_request", "url"),
    ((InvalidHeader, InvalidHeaderName), 400, "bad_request", "headers"),
)


def json_error_response(status: int, code: str, message: str, field: str) -> bytes:
    """A whole HTTP/1.1 response carrying the house error body; the connection then closes."""
    body = json.dumps({"error": {"code": code, "message": message, "field": field}}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped: its classes are Any
    """gunicorn's gthread worker, answering the requests gunicorn refuses in JSON, and telling
    admission control when a request arrives (before it waits for a thread) and is done."""

    def enqueue_req(self, conn: Any) -> None:
        """A request is readable: it counts for admission control from now on."""
        of(self.wsgi).admission.arrive()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Serve it in a pool thread (one call per `enqueue_req`), then stop counting it."""
        try:
            return super().handle(conn)
        finally:
            of(self.wsgi).admission.depart()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """A refusal in `REFUSALS` becomes a JSON error; anything else is gunicorn's to answer."""
        refusal = next((r[1:] for r in REFUSALS if isinstance(exc, r[0])), None)
        if refusal is None:
            super().handle_error(req, client, addr, exc)
            return
        status, code, field = refusal
        if isinstance(exc, LimitRequestLine):
            message = f"the request line is longer than {self.cfg.limit_request_line} bytes"
        else:
            message = str(exc)
        self.log.warning("refused a request from %s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, json_error_response(status, code, message, field))
        except OSError:
            self.log.debug("could not send the refusal: the client is gone")


class ServiceServer(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped: its classes are Any
    """A gunicorn application serving one shopsim service."""

    def __init__(self, service: str, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        host = self.settings.host
        bind = f"[{host}]" if ":" in host else host
        options: dict[str, Any] = {
            "bind": f"{bind}:{self.settings.port(self.service)}",
            "workers": 1,
            "worker_class": JsonErrorWorker,  # gthread, with refusals in JSON
            "threads": self.settings.threads.get(self.service, 16),
            "graceful_timeout": 5,
            "timeout": 60,
            "keepalive": 5,
            "backlog": 2048,
            "proc_name": f"shopsim-{self.service}",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "post_worker_init": self._post_worker_init,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def _post_worker_init(self, worker: Any) -> None:
        """In the worker: die with the master, and open the operator side port."""
        die_with_parent()
        serve_operator_paths(
            worker.wsgi, self.settings.host, self.settings.operator_port(self.service)
        )

    def load(self) -> Any:
        return create_app(self.service, self.settings)


def main(argv: list[str] | None = None) -> None:
    """Entry point for a service process started by the supervisor."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in SERVICE_NAMES:
        sys.exit(f"usage: python -m shopsim.serve {{{','.join(SERVICE_NAMES)}}}")
    raw = os.environ.get(SETTINGS_ENV)
    settings = Settings.from_json(raw) if raw else Settings()
    die_with_parent()
    ServiceServer(args[0], settings).run()


if __name__ == "__main__":
    main()
