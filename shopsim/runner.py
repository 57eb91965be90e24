"""Start and stop the whole storefront: one gunicorn process per service.

`Stack` is a context manager: entering starts every service on consecutive loopback ports and
waits for each health check; leaving (normally, on an error, or on Ctrl-C/SIGTERM turned into
an exception by the caller) stops them all, escalating to SIGKILL of each process group, so no
process outlives it and every port is free again. Each child also dies with its parent
(PR_SET_PDEATHSIG), which covers a supervisor killed with SIGKILL.

While it runs, a watcher thread restarts a service that crashed on purpose (the crash fault,
shopsim.crashes): it left a record naming its process group and when to come back. A service
that died without such a record is not restarted: `dead()` reports it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from shopsim.crashes import CRASH_DIR_ENV, read_record, record_path
from shopsim.settings import SERVICE_NAMES, SETTINGS_ENV, Settings


class StackError(RuntimeError):
    """The storefront could not be started."""


@dataclass
class Health:
    service: str
    url: str
    ok: bool
    detail: str


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def check_health(settings: Settings, timeout_s: float = 2.0) -> list[Health]:
    """Ask every service's /healthz once."""
    out = []
    with httpx.Client(timeout=timeout_s) as client:
        for name in SERVICE_NAMES:
            url = settings.url(name)
            try:
                response = client.get(f"{url}/healthz")
                ok = response.status_code == 200
                detail = "ok" if ok else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, detail = False, type(exc).__name__
            out.append(Health(name, url, ok, detail))
    return out


class Stack:
    """Every service of the storefront as a child process."""

    def __init__(
        self,
        settings: Settings,
        *,
        startup_timeout_s: float = 30.0,
        services: tuple[str, ...] = SERVICE_NAMES,
    ) -> None:
        self.settings = settings
        self.services = services  # a subset for one-service measurements (shopsim bench)
        self.startup_timeout_s = startup_timeout_s
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.log_dir = Path(settings.run_dir) / "logs"
        self.crash_dir = Path(settings.run_dir) / "crashes"
        #: Every restart after a crash: service, crashed_at, restart_at, restarted_at (wall).
        self.restarts: list[dict[str, float | str]] = []
        self.failed_restarts: dict[str, str] = {}
        self._lock = threading.RLock()  # procs: the watcher restarts while others read
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Launch every service, wait until each answers its health check, start the watcher."""
        for stale in self.crash_dir.glob("*.json"):  # an earlier run's records mean nothing
            stale.unlink()
        self._launch(self.services)
        self._stopping.clear()
        self._watcher = threading.Thread(target=self._watch, name="stack-watcher", daemon=True)
        self._watcher.start()

    def restart(self, service: str) -> None:
        """Start one stopped service again (after `kill`): same port, settings and data."""
        with self._lock:
            if self.procs[service].poll() is None:
                raise StackError(f"{service} is still running")
            self._launch((service,))

    def _watch(self) -> None:
        """Restart crashed services at their recorded time, until the Stack stops."""
        while not self._stopping.wait(0.1):
            with self._lock:
                for name, proc in list(self.procs.items()):
                    if proc.poll() is None or self._stopping.is_set():
                        continue
                    record = read_record(self.crash_dir, name)
                    if record is None or record.pgid != proc.pid or time.time() < record.restart_at:
                        continue
                    try:
                        self._wait_ports_free(name, 10.0)
                        self._launch((name,))
                        self.restarts.append(
                            {
                                "service": name,
                                "crashed_at": record.crashed_at,
                                "restart_at": record.restart_at,
                                "restarted_at": time.time(),
                            }
                        )
                    except StackError as exc:  # left dead, without a record: dead() says so
                        self.failed_restarts[name] = str(exc)
                    finally:
                        record_path(self.crash_dir, name).unlink(missing_ok=True)

    def crashed(self) -> list[str]:
        """Services down after a crash fault, waiting for their restart.

        Without the lock, so a restart in progress does not hold up a caller's loop: the watcher
        replaces a service's process before it removes the record."""
        return [
            name
            for name, proc in list(self.procs.items())
            if proc.poll() is not None
            and (r := read_record(self.crash_dir, name)) is not None
            and r.pgid == proc.pid
        ]

    def _launch(self, names: tuple[str, ...]) -> None:
        busy = [
            f"{self.settings.host}:{port} ({n})"
            for n in names
            for port in (self.settings.port(n), self.settings.operator_port(n))
            if port_in_use(self.settings.host, port)
        ]
        if busy:
            raise StackError(
                "ports already in use: " + ", ".join(busy) + "; choose another --port-base"
            )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = os.environ | {
            SETTINGS_ENV: self.settings.to_json(),
            CRASH_DIR_ENV: str(self.crash_dir),  # this Stack restarts what crashes on purpose
        }
        for name in names:
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "shopsim.serve", name],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: we signal it, not the terminal
            )
            log.close()
        self._wait_healthy(names)

    def _wait_healthy(self, names: tuple[str, ...]) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        pending = set(names)
        with httpx.Client(timeout=1.0) as client:
            while pending:
                for name in sorted(pending):
                    proc = self.procs[name]
                    if proc.poll() is not None:
                        raise StackError(
                            f"{name} exited with status {proc.returncode} while starting; "
                            f"see {self.log_dir / (name + '.log')}"
                        )
                    try:
                        if client.get(f"{self.settings.url(name)}/healthz").status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise StackError(
                        f"not healthy after {self.startup_timeout_s:.0f}s: "
                        + ", ".join(sorted(pending))
                    )
                if pending:
                    time.sleep(0.1)

    def stop(self, grace_s: float = 8.0) -> None:
        """Stop every service: SIGTERM, then SIGKILL of the whole process group."""
        self._stopping.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join()  # it may be restarting one: that ends within startup_timeout_s
        self._watcher = None
        for proc in self.procs.values():
            signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for proc in self.procs.values():
            signal_group(proc.pid, signal.SIGKILL)  # workers left behind by a stuck master, too
            proc.wait()
        self.procs.clear()

    def kill(self, service: str, timeout_s: float = 10.0) -> None:
        """SIGKILL one service's process group, as a crash would (its callers see refusals).

        Returns once its ports are free: its worker, reparented when the master died, may take a
        moment longer to go than the master does."""
        proc = self.procs[service]
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        self._wait_ports_free(service, timeout_s)

    def _wait_ports_free(self, service: str, timeout_s: float) -> None:
        ports = (self.settings.port(service), self.settings.operator_port(service))
        deadline = time.monotonic() + timeout_s
        while any(port_in_use(self.settings.host, port) for port in ports):
            if time.monotonic() > deadline:
                raise StackError(f"{service} still holds its ports after SIGKILL")
            time.sleep(0.05)

    def dead(self) -> list[str]:
        """Services whose process has exited and that nothing will restart (not `crashed()`)."""
        waiting = set(self.crashed())
        return [
            name
            for name, proc in list(self.procs.items())
            if proc.poll() is not None and name not in waiting
        ]


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group led by `pid` (a child started with start_new_session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies, so no child outlives its parent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own cleanup still applies
        pass
