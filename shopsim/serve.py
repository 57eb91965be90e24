"""Run one service under gunicorn: ``python -m shopsim.serve SERVICE``.

Settings arrive as JSON in ``SHOPSIM_SETTINGS``. One gthread worker per service keeps
prometheus-client in single-process mode, and its thread count is the service's capacity, so
overload queues and times out the way it does in production.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gunicorn.app.base import BaseApplication

from shopsim.app import OPERATOR_PORT_ENVIRON, OPERATOR_PREFIXES, create_app
from shopsim.runner import die_with_parent
from shopsim.settings import SERVICE_NAMES, SETTINGS_ENV, Settings


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Scrapes come every second: don't log each one."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_operator_paths(app: Any, host: str, port: int) -> WSGIServer:
    """Serve the app's operator paths (metrics, health, chaos) from threads of their own.

    gunicorn's worker threads all wait on customers when a service saturates; this server's
    threads do not, so monitoring and fault control keep answering. Other paths get 404.
    """

    def operator_only(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(OPERATOR_PREFIXES):
            environ[OPERATOR_PORT_ENVIRON] = True
            return app(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"operator port: only /metrics, /healthz and /_chaos are served here\n"]

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("OperatorServer", (_ThreadingServer,), {"address_family": family})
    server: WSGIServer = make_server(host, port, operator_only, server_class, _QuietHandler)
    threading.Thread(target=server.serve_forever, name="operator-port", daemon=True).start()
    return server


class ServiceServer(BaseApplication):  # type: ignore[misc]
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
            "worker_class": "gthread",
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
