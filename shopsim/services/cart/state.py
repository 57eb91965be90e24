"""What one cart process keeps in memory: its operation counters, one per operation.

`init_app` builds one `CartState` per app and sets it on the service context; views get it
back typed with `of(ctx)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import Counter

from shopsim.context import ServiceContext
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import CART_CHANGES
from shopsim.metrics.catalogue.values import CART_OPERATIONS as OPERATIONS


@dataclass(frozen=True)
class CartState:
    """One cart app's own parts, built once by `init_app`."""

    operations: Mapping[str, Counter]  # operation -> its child of cart's change counter

    @classmethod
    def build(cls, ctx: ServiceContext) -> CartState:
        counter = make(CART_CHANGES, ctx.metrics.registry)
        return cls(operations={op: counter.labels(op) for op in OPERATIONS})


def of(ctx: ServiceContext) -> CartState:
    """The state of the cart app whose context this is."""
    found = ctx.service_state
    if not isinstance(found, CartState):
        raise TypeError(f"{ctx.service} has no cart state (init_app builds it)")
    return found
