"""What one inventory process keeps in memory: its outcome counters and its clock.

`init_app` builds one `InventoryState` per app and sets it on the service context; views and
the sweeper get it back typed with `of(ctx)`. Tests may set `clock` to move time instead of
sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from prometheus_client import Counter

from shopsim.context import ServiceContext


@dataclass
class InventoryState:
    """One inventory app's own parts, built once by `init_app`."""

    outcomes: Mapping[str, Counter]  # outcome -> its child of the reservation counter
    clock: Callable[[], float] = field(default=time.time)


def of(ctx: ServiceContext) -> InventoryState:
    """The state of the inventory app whose context this is."""
    found = ctx.service_state
    if not isinstance(found, InventoryState):
        raise TypeError(f"{ctx.service} has no inventory state (init_app builds it)")
    return found
