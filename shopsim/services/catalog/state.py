"""What one catalog process keeps in memory: its product cache.

`init_app` builds one `CatalogState` per app and sets it on the service context; views get it
back typed with `of(ctx)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from shopsim.context import ServiceContext
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import CACHE_LOOKUPS
from shopsim.services.catalog.cache import ProductCache


@dataclass(frozen=True)
class CatalogState:
    """One catalog app's own parts, built once by `init_app`."""

    cache: ProductCache

    @classmethod
    def build(cls, ctx: ServiceContext) -> CatalogState:
        lookups = make(CACHE_LOOKUPS, ctx.metrics.registry)
        settings = ctx.settings
        cache = ProductCache(
            settings.catalog_cache_size, settings.catalog_cache_ttl_s, lookups, ctx.faults
        )
        return cls(cache=cache)


def of(ctx: ServiceContext) -> CatalogState:
    """The state of the catalog app whose context this is."""
    found = ctx.service_state
    if not isinstance(found, CatalogState):
        raise TypeError(f"{ctx.service} has no catalog state (init_app builds it)")
    return found
