"""What one registry process keeps in memory: its gift purchase counter.

`init_app` builds one `RegistryState` per app and sets it on the service context; the gift
recording gets it back typed with `of(ctx)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from shopsim.context import ServiceContext


@dataclass(frozen=True)
class RegistryState:
    """One registry app's own parts, built once by `init_app`."""

    gifts: Counter  # gift purchases by registry kind


def of(ctx: ServiceContext) -> RegistryState:
    """The state of the registry app whose context this is."""
    found = ctx.service_state
    if not isinstance(found, RegistryState):
        raise TypeError(f"{ctx.service} has no registry state (init_app builds it)")
    return found
