"""The faults active in one service, with their seeded RNGs, expiry and metrics.

Every service keeps a `Faults` (``ctx.faults``). A spec is installed on every service; each
keeps it if it applies there: an inbound fault on its target, an outbound fault on each
service that calls the target. Expiry is the service's own clock, so a fault ends on time even
if whoever added it is gone.

Decisions are reproducible: each fault draws from ``Random(f"{seed}:{service}:{name}")``, so
the same seed and the same sequence of requests give the same decisions.

A service asks at its switch points: `fires(Logic.X)` draws the active faults of that type and
answers a `Fired` (the action, the params, and a hold that the fault's end lets go) or None. An
ambient fault is started with its own `ActiveFault` as handle and the `Target` the service
attached (target.py); the registry holds nothing else of the service.
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
from shopsim.faults.logic import Logic
from shopsim.faults.spec import FaultSpec
from shopsim.faults.table import FAULT_TYPES
from shopsim.faults.target import Target
from shopsim.metrics import make
from shopsim.metrics.catalogue.common import FAULT_ACTIVE, FAULT_INJECTIONS
from shopsim.settings import DEPENDENCIES


@dataclass(eq=False)
class ActiveFault:
    """One installed fault and its running state."""

    spec: FaultSpec
    kind: FaultType[BaseModel]
    started_at: float  # wall clock, for listings
    expires_at: float  # monotonic clock, for expiry
    rng: random.Random
    counter: Any  # shopsim_fault_injections_total for its type
    injections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: threading.Event = field(default_factory=threading.Event)  # removed, reset or expired

    def draw(self) -> Action | None:
        """Draw whether the fault fires on this request (or round) and, if so, what it does."""
        with self.lock:
            if self.rng.random() >= self.spec.probability:
                return None
            action = self.kind.decide(self.rng, time.monotonic())
            self.injections += 1
        self.counter.inc()
        return action

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


@dataclass(frozen=True)
class Fired:
    """A logic fault firing at a switch point: what it decided, with its fault's params."""

    action: Action
    fault: ActiveFault = field(repr=False)

    @property
    def params(self) -> Any:
        """The fault's parameters (its type's Params model)."""
        return self.fault.kind.params

    def hold(self, seconds: float) -> bool:
        """Wait up to `seconds`; the fault's removal, a reset or its expiry end the wait at once.

        True if the fault was in force throughout."""
        return self.fault.hold(seconds)


class Faults:
    """The registry of active faults of one service."""

    def __init__(self, service: str, seed: int, registry: CollectorRegistry) -> None:
        self.service = service
        self.seed = seed
        self._faults: dict[str, ActiveFault] = {}
        self._lock = threading.Lock()
        self._target: Target | None = None
        self._active = make(FAULT_ACTIVE, registry)
        self._injections = make(FAULT_INJECTIONS, registry)
        for kind, cls in FAULT_TYPES.items():  # every series this service can carry, at 0
            self._active.labels(kind, service).set(0)
            if "outbound" in cls.directions:
                for dependency in DEPENDENCIES[service]:
                    self._active.labels(kind, dependency).set(0)
            self._injections.labels(kind)

    def attach(self, target: Target) -> None:
        """The service as ambient faults may act on it (given once, by create_app)."""
        self._target = target

    def applies_here(self, spec: FaultSpec) -> bool:
        """Whether this service carries the spec out."""
        return self.service in spec.services()

    def add(self, spec: FaultSpec) -> ActiveFault | None:
        """Install a validated spec; None when it does not apply here. 409 on a name clash."""
        self.purge()
        if not self.applies_here(spec):
            return None
        kind = spec.kind()
        fault = ActiveFault(
            spec=spec,
            kind=kind,
            started_at=time.time(),
            expires_at=time.monotonic() + spec.duration_s,
            rng=random.Random(f"{self.seed}:{self.service}:{spec.name}"),
            counter=self._injections.labels(spec.type),
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
                if self._target is None:
                    raise RuntimeError(f"{self.service}: no target attached for {spec.type}")
                kind.start(fault, self._target)
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

    def fires(self, name: Logic) -> Fired | None:
        """At a service's switch point: whether a `name` fault fires now, and what it decided.

        None at once while no fault is active. Logic faults decide `Switch()` (take the
        known-bad path); db_slow decides a `Delay`."""
        return self._fire(name)

    def _fire(self, kind: str) -> Fired | None:
        if not self._faults:
            return None
        for fault in self.active():
            if fault.spec.type == kind and (action := fault.draw()) is not None:
                return Fired(action, fault)
        return None

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
