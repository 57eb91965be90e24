"""The faults active in one service, with their seeded RNGs, expiry and metrics.

Every service keeps a `Faults` (``ctx.faults``). A spec is installed on every service; each
keeps it if it applies there: an inbound fault on its target, an outbound fault on each
service that calls the target. Expiry is the service's own clock, so a fault ends on time even
if whoever added it is gone.

Decisions are reproducible: each fault draws from ``Random(f"{seed}:{service}:{name}")``, so
the same seed and the same sequence of requests give the same decisions.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from shopsim.errors import Conflict
from shopsim.faults import budget
from shopsim.faults.base import Action, FaultType
from shopsim.faults.spec import FaultSpec
from shopsim.faults.table import FAULT_TYPES
from shopsim.metrics import make
from shopsim.metrics.catalogue.common import FAULT_ACTIVE, FAULT_INJECTIONS
from shopsim.settings import DEPENDENCIES


@dataclass(eq=False)
class ActiveFault:
    """One installed fault and its running state."""

    spec: FaultSpec
    kind: FaultType
    started_at: float  # wall clock, for listings
    expires_at: float  # monotonic clock, for expiry
    rng: random.Random
    injections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: threading.Event = field(default_factory=threading.Event)  # removed, reset or expired

    def hold(self, seconds: float) -> bool:
        """Hold the calling request up to `seconds`; True if the fault was in force throughout.

        Removal, reset and expiry end the hold at once: a request held by a fault that is gone
        goes on as if it had never been held."""
        left = self.expires_at - time.monotonic()
        if self.ended.wait(max(0.0, min(seconds, left))):
            return False
        return seconds < left

    def describe(self, now: float) -> dict[str, Any]:
        """The fault as listed by the chaos API."""
        return self.spec.model_dump() | {
            "started_at": self.started_at,
            "expires_in_s": round(max(0.0, self.expires_at - now), 3),
            "injections": self.injections,
        }


class Faults:
    """The registry of active faults of one service."""

    def __init__(self, service: str, seed: int, registry: CollectorRegistry) -> None:
        self.service = service
        self.seed = seed
        self._faults: dict[str, ActiveFault] = {}
        self._lock = threading.Lock()
        self._ctx: Any = None
        self._active = make(FAULT_ACTIVE, registry)
        self._injections = make(FAULT_INJECTIONS, registry)
        for kind, cls in FAULT_TYPES.items():  # every series this service can carry, at 0
            self._active.labels(kind, service).set(0)
            if "outbound" in cls.directions:
                for dependency in DEPENDENCIES[service]:
                    self._active.labels(kind, dependency).set(0)
            self._injections.labels(kind)

    def bind(self, ctx: Any) -> None:
        """Give ambient faults the service context they act on."""
        self._ctx = ctx

    def applies_here(self, spec: FaultSpec) -> bool:
        """Whether this service carries the spec out."""
        if spec.direction == "inbound":
            return spec.target == self.service
        return spec.target in DEPENDENCIES[self.service]

    def add(self, spec: FaultSpec, params: BaseModel) -> ActiveFault | None:
        """Install a validated spec; None when it does not apply here. 409 on a name clash."""
        self.purge()
        if not self.applies_here(spec):
            return None
        kind = FAULT_TYPES[spec.type](params)
        fault = ActiveFault(
            spec=spec,
            kind=kind,
            started_at=time.time(),
            expires_at=time.monotonic() + spec.duration_s,
            rng=random.Random(f"{self.seed}:{self.service}:{spec.name}"),
        )
        with self._lock:
            if spec.name in self._faults:
                raise Conflict(f"a fault named {spec.name!r} is active", field="name")
            budget.check(
                self.service, (f.kind.takes() for f in self._faults.values()), kind.takes()
            )
            self._faults[spec.name] = fault
        if kind.ambient:
            try:
                kind.start(self._ctx)
            except BaseException:  # not started: not active either
                with self._lock:
                    self._faults.pop(spec.name, None)
                kind.stop()
                raise
        self._refresh_gauge(spec)
        return fault

    def remove(self, name: str) -> bool:
        """Remove one fault by name; False when there is none."""
        with self._lock:
            fault = self._faults.pop(name, None)
        if fault is None:
            return False
        self._ended(fault)
        return True

    def reset(self) -> int:
        """Remove every fault; returns how many there were."""
        with self._lock:
            gone = list(self._faults.values())
            self._faults.clear()
        for fault in gone:
            self._ended(fault)
        return len(gone)

    def purge(self) -> None:
        """Remove faults whose time is up."""
        if not self._faults:
            return
        now = time.monotonic()
        with self._lock:
            due = [f for f in self._faults.values() if f.expires_at <= now]
            for fault in due:
                del self._faults[fault.spec.name]
        for fault in due:
            self._ended(fault)

    def active(self) -> list[ActiveFault]:
        """Every fault still active here."""
        self.purge()
        with self._lock:
            return list(self._faults.values())

    def inbound(self, route: str) -> list[ActiveFault]:
        """Inbound request faults whose route pattern matches `route`.

        Logic and ambient faults are left out: drawing them here would count injections (and
        move their RNG) on requests whose code path never asked for them."""
        if not self._faults:
            return []
        return [
            f
            for f in self.active()
            if f.spec.direction == "inbound"
            and f.kind.request_fault
            and fnmatch.fnmatchcase(route, f.spec.route)
        ]

    def outbound(self, dependency: str) -> list[ActiveFault]:
        """Outbound request faults on calls to `dependency`."""
        if not self._faults:
            return []
        return [
            f
            for f in self.active()
            if f.spec.direction == "outbound"
            and f.kind.request_fault
            and f.spec.target == dependency
        ]

    def draw(self, fault: ActiveFault) -> Action | None:
        """Draw whether `fault` fires on this request and, if so, what it does."""
        with fault.lock:
            if fault.rng.random() >= fault.spec.probability:
                return None
            action = fault.kind.decide(fault.rng, time.monotonic())
            fault.injections += 1
        self._injections.labels(fault.spec.type).inc()
        return action

    def firing(self, kind: str) -> Action | None:
        """For a service's own code path: the action of an active `kind` fault firing now.

        Logic faults return `Switch()` (take the known-bad path); db_slow returns a `Delay`.
        """
        if not self._faults:
            return None
        for fault in self.active():
            if fault.spec.type == kind and (action := self.draw(fault)) is not None:
                return action
        return None

    def params(self, kind: str) -> Any:
        """The parameters of the active `kind` fault (the first one), or None."""
        for fault in self.active():
            if fault.spec.type == kind:
                return fault.kind.params
        return None

    def count_round(self, fault_type: str) -> None:
        """Count one round of an ambient fault's work as an injection."""
        self._injections.labels(fault_type).inc()

    def _ended(self, fault: ActiveFault) -> None:
        fault.ended.set()  # lets go of the requests it holds
        if fault.kind.ambient:
            fault.kind.stop()
        self._refresh_gauge(fault.spec)

    def _refresh_gauge(self, spec: FaultSpec) -> None:
        with self._lock:
            alive = any(
                f.spec.type == spec.type and f.spec.target == spec.target
                for f in self._faults.values()
            )
        self._active.labels(spec.type, spec.target).set(1 if alive else 0)
