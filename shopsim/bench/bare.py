"""A bare Flask endpoint under the services' gunicorn settings, and `wrk` against an endpoint.

The baseline every ratio is taken against: the same gunicorn worker class, thread count,
keepalive and backlog as `shopsim.serve`, with no hooks, no database and no metrics. Run as
``python -m shopsim.bench.bare PORT THREADS``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psutil


def make_app() -> Any:
    """A Flask app answering one small JSON document, like a catalog read without the store."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/ping")
    def ping() -> Any:
        return jsonify({"sku": "SKU-0001", "name": "bare", "price_cents": 1999})

    return app


@dataclass
class WrkResult:
    requests_per_s: float
    requests: int
    cpu_s: float  # CPU of the server's processes while wrk ran

    @property
    def cpu_per_request_ms(self) -> float:
        return 1000.0 * self.cpu_s / self.requests if self.requests else 0.0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed (Debian package `wrk`)")
    return path


def mean(xs: list[float]) -> float | None:
    """The mean of a bench's rounds, None when none ran."""
    return sum(xs) / len(xs) if xs else None


def process_cpu(pids: list[int]) -> float:
    """User+system CPU seconds of these processes and their children."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def run_wrk(url: str, *, seconds: float, connections: int, server_pids: list[int]) -> WrkResult:
    """`wrk -t1 -cN` for `seconds` against a loopback url; CPU counted on `server_pids`."""
    before = process_cpu(server_pids)
    out = subprocess.run(
        [wrk_path(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    cpu = process_cpu(server_pids) - before
    count = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if count is None or rate is None:
        raise RuntimeError(f"could not read wrk's output: {out!r}")
    return WrkResult(float(rate.group(1)), int(count.group(1)), cpu)


class BareServer:
    """The bare endpoint as a child gunicorn process on a loopback port."""

    def __init__(self, port: int, threads: int = 16) -> None:
        self.port = port
        self.threads = threads
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ping"

    def __enter__(self) -> BareServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shopsim.bench.bare", str(self.port), str(self.threads)],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("the bare endpoint did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main() -> None:
    from gunicorn.app.base import BaseApplication

    from shopsim.runner import die_with_parent

    port, threads = int(sys.argv[1]), int(sys.argv[2])
    die_with_parent()

    class App(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped: its classes are Any
        def load_config(self) -> None:
            for key, value in {
                "bind": f"127.0.0.1:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "keepalive": 5,
                "backlog": 2048,
                "accesslog": None,
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return make_app()

    App().run()


if __name__ == "__main__":
    main()
