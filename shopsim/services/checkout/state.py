"""What one checkout process keeps in memory: its metrics and the attempts it is running.

`init_app` builds one `CheckoutState` per app and sets it on the service context; views,
the saga and the background loops get it back typed with `of(ctx)`. Nothing here is shared
between apps, so two checkout apps in one process (as in the tests) never see each other's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from shopsim.context import ServiceContext
from shopsim.services.checkout.instruments import Instruments

Key = tuple[int, str]  # (customer_id, idempotency_key): one attempt row


class Keyed(Protocol):
    """Anything naming one attempt row (an `attempts.Claim`)."""

    @property
    def customer_id(self) -> int: ...

    @property
    def key(self) -> str: ...


class Leases:
    """The attempt rows this process is running right now (the heartbeat keeps them alive)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[Key] = set()

    @contextmanager
    def holding(self, claim: Keyed) -> Iterator[None]:
        """While inside, the claim's row is this process's: beaten, never taken over here."""
        key = (claim.customer_id, claim.key)
        with self._lock:
            self._held.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(key)

    def holds(self, customer_id: int, key: str) -> bool:
        """True while this process runs the attempt for (customer_id, key)."""
        with self._lock:
            return (customer_id, key) in self._held

    def held(self) -> list[Key]:
        """A snapshot of the rows this process runs."""
        with self._lock:
            return sorted(self._held)


@dataclass(frozen=True)
class CheckoutState:
    """One checkout app's own parts, built once by `init_app`."""

    ctx: ServiceContext
    metrics: Instruments
    leases: Leases = field(default_factory=Leases)


def of(ctx: ServiceContext) -> CheckoutState:
    """The state of the checkout app whose context this is."""
    found = ctx.service_state
    if not isinstance(found, CheckoutState):
        raise TypeError(f"{ctx.service} has no checkout state (init_app builds it)")
    return found
