"""A timeline of faults and resilience changes, applied and removed on schedule.

    timeline = Timeline([FaultAt(5.0, {"type": "latency", "target": "payment",
                                       "params": {"ms": 800}, "duration_s": 30})])
    with ChaosClient(settings) as chaos:
        events = timeline.run(chaos, stop=stop_event)

A fault is a `FaultSpec` (a scenario's, built when it was loaded), passed on to the chaos client
as it is, or a raw spec, built here: every entry is valid before the first one is applied
(errors name the entry). A fault is added at its `at_s` and removed at `at_s + duration_s` (the
service would expire it by itself anyway). Whatever happens, normal end, an error, Ctrl-C, or
`stop` being set, the runner resets every fault and puts back the resilience settings it
changed before returning. With `hold`, it waits for `stop` after the last step before that, so
resilience settings meant for a whole run (a game day's) last until the run ends, not only
until the last fault is removed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from threading import Event
from typing import Any

from shopsim.errors import ShopsimError
from shopsim.faults.control import ChaosClient, ChaosError
from shopsim.faults.spec import FaultSpec, build_spec


@dataclass(frozen=True)
class FaultAt:
    """Add `fault` at `at_s` seconds into the run: a FaultSpec, or a raw spec with a duration."""

    at_s: float
    fault: FaultSpec | Mapping[str, Any]

    @property
    def spec(self) -> dict[str, Any]:
        """The fault as a raw spec: as given, or what its FaultSpec says beyond the defaults."""
        return self.fault.written() if isinstance(self.fault, FaultSpec) else dict(self.fault)


@dataclass(frozen=True)
class ResilienceAt:
    """Change `service`'s live resilience settings (a /_chaos/resilience patch) at `at_s`."""

    at_s: float
    service: str
    patch: dict[str, Any]


@dataclass
class TimelineEvent:
    """What the runner did, and how late it was."""

    at_s: float  # when it was scheduled, from the start
    done_s: float  # when it was done, from the start
    action: str  # add | remove | resilience | reset
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def late_s(self) -> float:
        return self.done_s - self.at_s


class TimelineError(ValueError):
    """A timeline entry is invalid; the message names it."""


class Timeline:
    """Entries to apply at their times; `run` carries them out against one store."""

    def __init__(self, entries: Sequence[FaultAt | ResilienceAt]) -> None:
        steps: list[tuple[float, int, str, Any]] = []
        for i, entry in enumerate(entries):
            if entry.at_s < 0:
                raise TimelineError(f"entry {i}: at must not be negative")
            if isinstance(entry, FaultAt):
                spec = entry.fault
                if not isinstance(spec, FaultSpec):
                    try:
                        spec = build_spec(spec)
                    except ShopsimError as err:
                        raise TimelineError(f"entry {i}: {err.message}") from None
                steps.append((entry.at_s, i, "add", spec))
                steps.append((entry.at_s + spec.duration_s, i, "remove", spec.name))
            else:
                steps.append((entry.at_s, i, "resilience", entry))
        self.steps = sorted(steps, key=lambda s: (s[0], s[2] != "remove", s[1]))

    @property
    def end_s(self) -> float:
        """When the last step is due."""
        return self.steps[-1][0] if self.steps else 0.0

    def run(
        self,
        chaos: ChaosClient,
        *,
        stop: Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_event: Callable[[TimelineEvent], None] | None = None,
        hold: bool = False,
    ) -> list[TimelineEvent]:
        """Apply every step on time; always reset faults and restore resilience at the end
        (with `hold`, only once `stop` is set, however long after the last step)."""
        stop = stop or Event()
        events: list[TimelineEvent] = []
        originals: dict[str, dict[str, Any]] = {}
        start = clock()

        def record(at_s: float, action: str, detail: dict[str, Any]) -> None:
            event = TimelineEvent(at_s, clock() - start, action, detail)
            events.append(event)
            if on_event:
                on_event(event)

        try:
            for at_s, _, action, payload in self.steps:
                if stop.wait(max(0.0, start + at_s - clock())):
                    break
                if action == "add":
                    spec: FaultSpec = payload
                    name, services = chaos.add(spec)
                    detail = {"name": name, "type": spec.type, "target": spec.target}
                    record(at_s, "add", detail | {"services": services})
                elif action == "remove":
                    with contextlib.suppress(ChaosError):  # it may have expired already
                        chaos.remove(payload)
                    record(at_s, "remove", {"name": payload})
                else:
                    entry: ResilienceAt = payload
                    if entry.service not in originals:
                        originals[entry.service] = _patch_of(chaos, entry.service)
                    chaos.set_resilience(entry.service, entry.patch)
                    record(at_s, "resilience", {"service": entry.service, "patch": entry.patch})
            if hold:
                stop.wait()
        finally:
            at_s = clock() - start
            chaos.reset()
            for service, patch in originals.items():
                with contextlib.suppress(ChaosError):
                    chaos.set_resilience(service, patch)
            record(at_s, "reset", {"restored": sorted(originals)})
        return events


def _patch_of(chaos: ChaosClient, service: str) -> dict[str, Any]:
    """The service's current resilience settings as a patch that restores them."""
    current = chaos.get_resilience(service)
    keep = {"max_connections"}  # not changeable live
    return {
        "dependencies": {
            dep: {k: v for k, v in policy.items() if k not in keep}
            for dep, policy in current["dependencies"].items()
        },
        "admission_max_in_flight": current["admission_max_in_flight"],
    }
