"""cache_off: the catalog's product cache is bypassed, so every read goes to the database.

Models a cache that is down or flushed on every deploy: the service still answers correctly,
but each lookup costs a query. The cache (shopsim.services.catalog.cache.ProductCache) asks
`fires(Logic.CACHE_OFF)` per lookup and counts a bypass instead of a hit or a miss.
"""

from __future__ import annotations

from shopsim.faults.base import FaultType, NoParams
from shopsim.faults.logic import Logic


class CacheOff(FaultType[NoParams]):
    name = Logic.CACHE_OFF
    summary = "catalog's product cache is bypassed: each lookup is a query, counted as a bypass"
    directions = ("inbound",)
    targets = ("catalog",)
