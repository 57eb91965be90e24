"""What a fault type is: parameters, where it may apply, and one pure decision function.

A type is a small class (see shopsim/faults/types/, and FAULTS.md beside this file for how to
write one). Given its parameters, a seeded RNG and the time, `decide` returns an `Action` for
this request or None. The probability draw is done once by the caller for every type, so
`decide` only says *what* happens when the fault fires.

The adapters that carry actions out are elsewhere: `inbound.py` (a Flask hook on the target),
`outbound.py` (an httpx transport on every caller), and the services' own known-bad code paths
for logic faults, which ask `Faults.fires(Logic.X)`. A type that acts by itself while active
(an ambient type) is started with its own `Handle` and its service's `Target` (target.py).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel

from shopsim.faults.target import Target
from shopsim.validation import Model


class NoParams(Model):
    """For fault types without parameters."""


#: A fault type's own parameters model. Covariant, so the table can hold every type as a
#: `FaultType[BaseModel]`; sound because `params` is read-only.
P = TypeVar("P", bound=BaseModel, covariant=True)


@dataclass(frozen=True)
class Delay:
    """Wait, then go on as usual."""

    seconds: float


@dataclass(frozen=True)
class Respond:
    """Answer at once with this status and JSON body instead of doing the work."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """Hold the request without answering for this long, then drop it."""

    seconds: float


@dataclass(frozen=True)
class Refuse:
    """The connection is refused: callers see a connection error."""


@dataclass(frozen=True)
class Reset:
    """The connection is dropped while the response is on its way."""


@dataclass(frozen=True)
class Limit:
    """At most `concurrency` requests at a time, each holding a slot of `gate` (the fault's
    own, shared by every request it limits); the rest wait up to `wait_s`, then get 503."""

    concurrency: int
    wait_s: float
    gate: threading.Semaphore = field(compare=False, repr=False)


@dataclass(frozen=True)
class Switch:
    """A logic fault fired: the service takes its known-bad code path for this request."""


Action = Delay | Respond | Hang | Refuse | Reset | Limit | Switch


class Handle(Protocol):
    """What an ambient fault gets of itself when it starts: its rounds and its deadline."""

    @property
    def expires_at(self) -> float:
        """When it expires (monotonic clock); its removal or a reset calls `stop` sooner."""
        ...

    def draw(self) -> Action | None:
        """Draw one round with the envelope's probability; a round that fires is counted."""
        ...


class FaultType(Generic[P]):
    """Base class of every fault type. Subclasses set the class variables and `decide`.

    A type names its Params model twice, as the type argument (`FaultType[LatencyParams]`, so
    `self.params` is typed) and as `Params` (which the spec validates against at run time);
    the table's test checks that the two agree."""

    #: The type name used in specs, the CLI and metrics.
    name: ClassVar[str]
    #: One line for `shopsim fault types` and the docs.
    summary: ClassVar[str]
    #: The type's own parameters (a strict pydantic model; NoParams when none).
    Params: ClassVar[type[BaseModel]] = NoParams
    #: Directions the type supports; the first is the default.
    directions: ClassVar[tuple[str, ...]] = ("inbound", "outbound")
    #: Services the type applies to (empty: any).
    targets: ClassVar[tuple[str, ...]] = ()
    #: True for request faults (latency, error...): the inbound and outbound adapters carry
    #: them out on every matching request. False for logic faults, which only the service's own
    #: code path asks for with `Faults.fires`, and for ambient faults.
    request_fault: ClassVar[bool] = False
    #: True for types that act continuously while active (cpu_burn...), not per request.
    ambient: ClassVar[bool] = False

    def __init__(self, params: P) -> None:
        self._params = params

    @property
    def params(self) -> P:
        """This fault's parameters, validated against `Params`."""
        return self._params

    def takes(self) -> Mapping[str, float]:
        """What this fault takes from its service's budgets (budget.py), e.g. memory_mb."""
        return {}

    def decide(self, rng: random.Random, now: float) -> Action | None:
        """What happens to a request this fault fired on (pure: params, rng and now only)."""
        return Switch()

    def start(self, fault: Handle, target: Target) -> None:
        """Begin continuous work on `target`, drawing rounds from `fault` (ambient types only)."""

    def stop(self) -> None:
        """End continuous work; must be safe to call twice (ambient types only)."""
