"""catalog's read cache of products (cache_off makes every lookup bypass it)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

from shopsim.faults.logic import Logic
from shopsim.faults.state import Faults

Product = dict[str, Any]


class ProductCache:
    """A tiny LRU with a time-to-live, counting hits and misses (and bypasses under cache_off)."""

    def __init__(self, size: int, ttl_s: float, lookups: Counter, faults: Faults) -> None:
        self._size, self._ttl = size, ttl_s
        self._items: OrderedDict[str, tuple[float, Product | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._faults = faults
        self._hit = lookups.labels("catalog", "hit")
        self._miss = lookups.labels("catalog", "miss")
        self._bypass = lookups.labels("catalog", "bypass")

    def get(self, sku: str, load: Callable[[str], Product | None]) -> Product | None:
        """The cached product for `sku`, loading it with `load(sku)` on a miss."""
        if self._faults.fires(Logic.CACHE_OFF):  # the known-bad path: no cache at all
            self._bypass.inc()
            return load(sku)
        now = time.monotonic()
        with self._lock:
            entry = self._items.get(sku)
            if entry and now - entry[0] < self._ttl:
                self._items.move_to_end(sku)
                self._hit.inc()
                return entry[1]
        self._miss.inc()
        value = load(sku)
        with self._lock:
            self._items[sku] = (now, value)
            self._items.move_to_end(sku)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
