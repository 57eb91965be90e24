"""What one running service holds: settings, database, metrics, dependencies, live settings and
background workers. It lives in ``app.extensions["shopsim"]``; `current()` fetches it in a view.
`ServiceTarget` is the service as its faults may act on it, handed to its fault engine.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from prometheus_client import CollectorRegistry, Gauge

from shopsim.client import Dependency
from shopsim.crashes import crash_self
from shopsim.db import Database, HotRows
from shopsim.errors import Conflict
from shopsim.faults.state import Faults
from shopsim.faults.target import LockScope, Outbox
from shopsim.metrics import ServiceMetrics
from shopsim.resilience import AdmissionControl
from shopsim.settings import DEPENDENCIES, DependencyPolicy, Settings

log = logging.getLogger("shopsim")


@dataclass(frozen=True)
class PolicyChange:
    """One change of the live settings; `expires_at` (monotonic) None means until reset."""

    dependencies: Mapping[str, Mapping[str, Any]]
    admission_max_in_flight: int | None
    expires_at: float | None


class LivePolicies:
    """Dependency policies and the admission limit, changeable while the service runs.

    The settings in force are the service's defaults with every change still in force applied
    in the order made. A change may carry a duration: once it is up it is as if it had never
    been made (later changes still apply). `reset` puts the defaults back.
    """

    def __init__(self, service: str, settings: Settings, admission: AdmissionControl) -> None:
        self._defaults = {dep: settings.policy(service, dep) for dep in DEPENDENCIES[service]}
        self._default_limit = admission.limit
        self._admission = admission
        # Changes before the first timed one can never be undone by an expiry: folded in here.
        self._base, self._base_limit = dict(self._defaults), admission.limit
        self._changes: list[PolicyChange] = []
        self._policies = dict(self._defaults)
        self._next_expiry = math.inf
        self._lock = threading.Lock()

    def get(self, dependency: str) -> DependencyPolicy:
        """The policy in force for calls to `dependency`."""
        if time.monotonic() >= self._next_expiry:
            self.purge()
        with self._lock:
            return self._policies[dependency]

    def all(self) -> dict[str, DependencyPolicy]:
        """A snapshot of every policy."""
        self.purge()
        with self._lock:
            return dict(self._policies)

    def change(
        self,
        dependencies: Mapping[str, Mapping[str, Any]],
        admission_max_in_flight: int | None = None,
        duration_s: float | None = None,
    ) -> None:
        """Change some fields of some policies (and the admission limit), for a while or not."""
        unknown = set(dependencies) - set(self._defaults)
        if unknown:
            raise KeyError(f"not a dependency here: {', '.join(sorted(unknown))}")
        expires_at = None if duration_s is None else time.monotonic() + duration_s
        change = PolicyChange(
            {dep: dict(fields) for dep, fields in dependencies.items()},
            admission_max_in_flight,
            expires_at,
        )
        with self._lock:
            self._changes.append(change)
            self._settle(time.monotonic())

    def reset(self) -> bool:
        """Put the defaults back; True when something else was in force."""
        with self._lock:
            changed = self._policies != self._defaults or self._admission.limit != (
                self._default_limit
            )
            self._base, self._base_limit = dict(self._defaults), self._default_limit
            self._changes.clear()
            self._settle(time.monotonic())
        return changed

    def purge(self) -> None:
        """Drop changes whose time is up."""
        if time.monotonic() < self._next_expiry:
            return
        with self._lock:
            self._settle(time.monotonic())

    def is_default(self) -> bool:
        """Whether the defaults are in force."""
        self.purge()
        with self._lock:
            return self._policies == self._defaults and self._admission.limit == (
                self._default_limit
            )

    def expiring(self) -> list[dict[str, Any]]:
        """The timed changes in force, with the seconds each has left."""
        self.purge()
        now = time.monotonic()
        with self._lock:
            return [
                {
                    "dependencies": {k: dict(v) for k, v in c.dependencies.items()},
                    "admission_max_in_flight": c.admission_max_in_flight,
                    "expires_in_s": round(max(0.0, c.expires_at - now), 3),
                }
                for c in self._changes
                if c.expires_at is not None
            ]

    def _settle(self, now: float) -> None:
        """Drop expired changes, fold leading permanent ones, recompute what is in force."""
        self._changes = [c for c in self._changes if c.expires_at is None or c.expires_at > now]
        while self._changes and self._changes[0].expires_at is None:
            first = self._changes.pop(0)
            self._base, self._base_limit = _applied(self._base, self._base_limit, first)
        policies, limit = self._base, self._base_limit
        for change in self._changes:
            policies, limit = _applied(policies, limit, change)
        self._policies = dict(policies)
        self._admission.limit = limit
        timed = [c.expires_at for c in self._changes if c.expires_at is not None]
        self._next_expiry = min(timed, default=math.inf)


def _applied(
    policies: Mapping[str, DependencyPolicy], limit: int, change: PolicyChange
) -> tuple[dict[str, DependencyPolicy], int]:
    out = dict(policies)
    for dep, fields in change.dependencies.items():
        out[dep] = dataclasses.replace(out[dep], **fields)
    if change.admission_max_in_flight is not None:
        limit = change.admission_max_in_flight
    return out, limit


@dataclass(frozen=True, eq=False)
class ServiceTarget:
    """A service as the faults acting on it by themselves may (shopsim.faults.target.Target)."""

    service: str
    db: Database
    registry: CollectorRegistry
    hot_rows: HotRows | None = None  # what db_lock locks (else the first table's first rows)
    outbox: Outbox | None = None  # notifications' outbox (poison_message)
    _gauges: dict[str, Gauge] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def hold_lock(self, scope: LockScope) -> Iterator[None]:
        """Hold a lock on the hot rows (or their table) while in the block."""
        with self.db.hold_lock(scope, self.hot_rows):
            yield

    def gauge(self, name: str, documentation: str) -> Gauge:
        """A gauge in the service's registry, created on first use."""
        with self._lock:
            if name not in self._gauges:
                self._gauges[name] = Gauge(name, documentation, registry=self.registry)
            return self._gauges[name]

    def crash(self, restart_after_s: float) -> None:
        """Kill this service's processes with SIGKILL (shopsim.crashes); 409 when unsupervised."""
        try:
            crash_self(self.service, restart_after_s)
        except RuntimeError as exc:
            raise Conflict(f"crash refused: {exc}", field="type") from None


@dataclass(eq=False)
class ServiceContext:
    """The per-process state of one service, built by `create_app`."""

    service: str
    settings: Settings
    db: Database
    metrics: ServiceMetrics
    admission: AdmissionControl
    policies: LivePolicies
    rng: random.Random
    faults: Faults
    deps: dict[str, Dependency] = field(default_factory=dict)
    # A service's own typed state, one object its init_app sets once; the service reads it back
    # through an accessor of its own that checks the type (checkout's `state.of`).
    service_state: object = None
    stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def dep(self, name: str) -> Dependency:
        """The client for one of this service's dependencies."""
        return self.deps[name]

    def every(self, seconds: float, name: str, work: Callable[[], object]) -> None:
        """Run `work` every `seconds` in a daemon thread until `close()` (if background is on)."""
        if not self.settings.background:
            return

        def loop() -> None:
            while not self.stopping.wait(seconds):
                try:
                    work()
                except Exception:  # a failed round must not kill the worker; the next one retries
                    log.exception("%s: background %s failed", self.service, name)

        thread = threading.Thread(target=loop, name=f"{self.service}-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def expire(self) -> None:
        """End faults and timed resilience changes whose time is up (the sweeper's round)."""
        self.faults.purge()
        self.policies.purge()

    def close(self) -> None:
        """Stop background work and faults, close clients and the database."""
        self.stopping.set()
        self.faults.reset()  # ambient faults run threads of their own (burners, lock holders)
        for thread in self._threads:
            thread.join(timeout=5)
        for dep in self.deps.values():
            dep.close()
        self.db.dispose()


def current() -> ServiceContext:
    """The context of the app serving the current request."""
    ctx: ServiceContext = current_app.extensions["shopsim"]
    return ctx


def of(app: Flask) -> ServiceContext:
    """The context of an app."""
    ctx: ServiceContext = app.extensions["shopsim"]
    return ctx
