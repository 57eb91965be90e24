"""A Prometheus server for the length of a game day (or a test): started on a free loopback port
with a given configuration and data directory, asked over its HTTP API, always stopped."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from shopsim.gameday.sampler import free_ports

READY_TIMEOUT_S = 30.0


class PrometheusError(RuntimeError):
    """Prometheus is missing, did not start, or answered a query with an error."""


def prometheus_binary() -> str:
    """The `prometheus` executable on PATH."""
    path = shutil.which("prometheus")
    if path is None:
        raise PrometheusError("prometheus is not on PATH (Debian package prometheus)")
    return path


class PrometheusServer:
    """One `prometheus` process; use as a context manager, or call start() and stop()."""

    def __init__(self, config: Path, data: Path, *, log: Path | None = None) -> None:
        self.config = config.resolve()
        self.data = data.resolve()
        self.log_path = (log or data.parent / "prometheus.log").resolve()
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(timeout=10.0)

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PrometheusServer:
        """Start it and wait until it answers ready."""
        binary = prometheus_binary()
        self.data.mkdir(parents=True, exist_ok=True)
        self.port = free_ports(1)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.data}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=3650d",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.config.parent,
            )
        try:
            self._wait(lambda: self.client.get(f"{self.url}/-/ready").status_code == 200, "ready")
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, condition: Any, what: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise PrometheusError(
                    f"prometheus exited ({self.proc.returncode}); see {self.log_path}"
                )
            try:
                if condition():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise PrometheusError(f"prometheus not {what} within {timeout_s:g}s; see {self.log_path}")

    def targets_up(self, job: str) -> bool:
        """Whether every target of a job has been scraped successfully."""
        body = self.client.get(f"{self.url}/api/v1/targets").json()
        found = [t for t in body["data"]["activeTargets"] if t["labels"].get("job") == job]
        return bool(found) and all(t["health"] == "up" for t in found)

    def wait_targets_up(self, job: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Wait for the first good scrape of every target of a job (Prometheus takes seconds)."""
        self._wait(lambda: self.targets_up(job), f"scraping job {job}", timeout_s)

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/<path>; the `data` of a successful answer."""
        answer = self.client.get(f"{self.url}/api/v1/{path}", params=params)
        body = answer.json()
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('error', answer.text)}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> Any:
        """An instant query's data."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        return self.api("query", **params)

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 15 s); safe to call twice."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.client.close()

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
