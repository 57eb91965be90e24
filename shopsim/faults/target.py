"""What a fault may do to its service: the typed interface the fault engine acts through.

The fault engine imports no service. `create_app` hands each service's `Faults` a `Target`
(shopsim.context.ServiceTarget, from the service's entry in shopsim.services): a fault that acts
on its service by itself (db_lock, memory_leak, poison_message, crash) does so only through it. The
other way round, a service asks its `Faults` whether a logic fault fires at one of its switch
points (shopsim.faults.logic), and its database asks before every statement (db_slow).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from prometheus_client import Gauge

#: What db_lock holds: the service's hot rows (its own choice), or a whole table.
LockScope = Literal["table", "hot_rows"]


class Outbox(Protocol):
    """notifications' outbox, as poison_message writes to it."""

    def plant(self, event_id: str, template: str, payload: Mapping[str, Any]) -> str:
        """Queue a message as stored, past the API's validation (an old producer's); its id."""
        ...


class Target(Protocol):
    """A service as the faults acting on it by themselves see it."""

    @property
    def service(self) -> str:
        """The service's name (for thread names and logs)."""
        ...

    @property
    def outbox(self) -> Outbox | None:
        """The outbox, on notifications; None elsewhere."""
        ...

    def hold_lock(self, scope: LockScope) -> AbstractContextManager[object]:
        """Hold a lock in the service's database, as another client would, while in the block."""
        ...

    def gauge(self, name: str, documentation: str) -> Gauge:
        """A gauge in the service's metrics registry, created on first use."""
        ...

    def crash(self, restart_after_s: float) -> None:
        """SIGKILL the service's own processes; its supervisor restarts it after the delay.

        Raises when nothing would restart it (then nothing is killed)."""
        ...
