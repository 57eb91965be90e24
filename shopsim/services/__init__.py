"""The explicit table of services: name -> the module parts `create_app` and `seed` use.

A service module provides ``metadata`` (its own tables, names prefixed with the service name so
they can share one PostgreSQL database), ``init_app(app, ctx)`` (routes and background work)
and, when seed data concerns it, ``load_seed(db, data)`` (replace its rows with the seed's).
What its faults may act on it goes into its target (shopsim.context.ServiceTarget): optionally
``HOT_ROWS`` (the rows db_lock locks) and ``Outbox`` (built on its database, for
poison_message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData

from shopsim.services import (
    cart,
    catalog,
    checkout,
    inventory,
    notifications,
    payment,
    registry,
    storefront,
)

if TYPE_CHECKING:
    from shopsim.db import Database, HotRows
    from shopsim.faults.target import Outbox
    from shopsim.seeddata import SeedData


@dataclass(frozen=True)
class ServiceSpec:
    """What the factory needs from one service module."""

    metadata: MetaData
    init_app: Callable[..., None]
    load_seed: Callable[[Database, SeedData], None] | None
    hot_rows: HotRows | None
    outbox: Callable[[Database], Outbox] | None


def _spec(module: Any) -> ServiceSpec:
    return ServiceSpec(
        module.metadata,
        module.init_app,
        getattr(module, "load_seed", None),
        getattr(module, "HOT_ROWS", None),
        getattr(module, "Outbox", None),
    )


SERVICES = MappingProxyType(
    {
        "storefront": _spec(storefront),
        "catalog": _spec(catalog),
        "cart": _spec(cart),
        "inventory": _spec(inventory),
        "payment": _spec(payment),
        "checkout": _spec(checkout),
        "registry": _spec(registry),
        "notifications": _spec(notifications),
    }
)
