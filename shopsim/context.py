"""What one running service holds: settings, database, metrics, dependencies, live settings and
background workers. It lives in ``app.extensions["shopsim"]``; `current()` fetches it in a view.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from shopsim.client import Dependency
from shopsim.db import Database
from shopsim.faults.state import Faults
from shopsim.metrics import ServiceMetrics
from shopsim.resilience import AdmissionControl
from shopsim.settings import DEPENDENCIES, DependencyPolicy, Settings

log = logging.getLogger("shopsim")


class LivePolicies:
    """Dependency policies that may be changed while the service runs."""

    def __init__(self, service: str, settings: Settings) -> None:
        self._policies = {dep: settings.policy(service, dep) for dep in DEPENDENCIES[service]}
        self._lock = threading.Lock()

    def get(self, dependency: str) -> DependencyPolicy:
        """The policy in force for calls to `dependency`."""
        with self._lock:
            return self._policies[dependency]

    def set(self, dependency: str, policy: DependencyPolicy) -> None:
        """Replace the policy for `dependency`; the next call uses it."""
        with self._lock:
            self._policies[dependency] = policy

    def all(self) -> dict[str, DependencyPolicy]:
        """A snapshot of every policy."""
        with self._lock:
            return dict(self._policies)


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
    extras: dict[str, Any] = field(default_factory=dict)  # a service's own per-app objects
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
    return current_app.extensions["shopsim"]  # type: ignore[no-any-return]


def of(app: Flask) -> ServiceContext:
    """The context of an app."""
    return app.extensions["shopsim"]  # type: ignore[no-any-return]
