"""The few numbers a game day watches every second, computed from recent snapshots.

`DERIVED` is the explicit table of what stop conditions and the live view may use. Rates are
over the last second; checkout figures, ratios and percentiles over a short window (5 s) so one
slow second does not flap them. A value is None while there is nothing to compute it from. The
load generator's numbers are summed over all its processes (sources load, load-1, ...).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from shopsim.gameday.sampler import Snapshot
from shopsim.metrics.catalogue.business import ERROR_PAGES_SHOWN
from shopsim.metrics.catalogue.common import FAULT_ACTIVE
from shopsim.metrics.catalogue.load import (
    LOAD_ARRIVALS,
    LOAD_CHECKOUTS,
    LOAD_CHECKOUTS_IN_FLIGHT,
    LOAD_CPU,
    LOAD_DROPPED,
    LOAD_DURATION,
    LOAD_REQUESTS,
    LOAD_TARGET,
)
from shopsim.metrics.catalogue.values import CHECKOUT_RESULTS, LOAD, ORDER_FLOWS

WINDOW = 5  # snapshots (seconds) for ratios and percentiles


def is_load_source(source: str) -> bool:
    """True for the load generator's processes: load (master or standalone), load-1, ..."""
    return source == LOAD or source.startswith(LOAD + "-")


def _is_checkout(tags: dict[str, str]) -> bool:
    """A request of the checkout or gift flow (its pages and its orders), by its flow label."""
    return tags.get("flow") in ORDER_FLOWS


def _is_order(tags: dict[str, str]) -> bool:
    """An order placed (POST /checkout, POST /registries/[id]/gift), not the checkout page."""
    return tags.get("method") == "POST" and _is_checkout(tags)


@dataclass
class Window:
    """The last few snapshots, oldest first, and when each load source was first scraped."""

    snaps: deque[Snapshot]
    born: dict[str, float] = field(default_factory=dict)

    def pair(self, span: int) -> tuple[Snapshot, Snapshot]:
        """The snapshot `span` back (or the oldest) and the newest."""
        return self.snaps[max(0, len(self.snaps) - 1 - span)], self.snaps[-1]

    def sources(self, old: Snapshot, new: Snapshot, load: bool = True) -> list[str]:
        """Sources whose increase from `old` to `new` is known: those scraped both times, and
        load processes first scraped after `old`, whose counters started at zero with them.

        A source that merely missed `old` is left out: its whole counter would count as an
        increase. Services are never new: they ran before the game day's load began.
        """
        return [
            s
            for s in new.values
            if is_load_source(s) == load
            and (s in old.values or (load and self.born.get(s, old.at) > old.at))
        ]

    def delta(self, name: str, span: int = 1, load: bool = True, **match: str) -> float | None:
        """Increase of a counter over the last `span` snapshots (None without enough history)."""
        if len(self.snaps) < 2:
            return None
        old, new = self.pair(span)
        pick = self.sources(old, new, load)
        if not pick:
            return None  # no source answered both times: unknown, not zero
        return max(0.0, new.total(name, pick, **match) - old.total(name, pick, **match))

    def seconds(self, span: int = 1) -> float:
        """Seconds between the snapshot `span` back (or the oldest) and the newest."""
        old, new = self.pair(span)
        return max(1e-6, new.at - old.at)


def _load_sources(snap: Snapshot) -> list[str]:
    return [s for s in snap.values if is_load_source(s)]


def _rate(name: str, **match: str) -> Callable[[Window], float | None]:
    def compute(w: Window) -> float | None:
        d = w.delta(name, 1, True, **match)  # by position: a label cannot stand in for them
        return None if d is None else d / w.seconds()

    return compute


def checkout_error_ratio(w: Window) -> float | None:
    """Failed share of checkouts in the window (client side); sold out is not a failure."""
    counts = {r: w.delta(LOAD_CHECKOUTS.name, WINDOW, result=r) for r in CHECKOUT_RESULTS}
    if counts["ok"] is None:
        return None
    good = (counts["ok"] or 0.0) + (counts["sold_out"] or 0.0)
    bad = (counts["failure"] or 0.0) + (counts["error_page"] or 0.0)
    return None if good + bad == 0 else bad / (good + bad)


def checkouts_per_s(w: Window) -> float | None:
    """Checkouts answered per second over the window, whatever their result."""
    done = w.delta(LOAD_CHECKOUTS.name, WINDOW)
    return None if done is None else done / w.seconds(WINDOW)


def checkouts_in_flight(w: Window) -> float | None:
    """Checkouts sent and not answered yet, over every load process."""
    snap = w.snaps[-1]
    sources = _load_sources(snap)
    return snap.total(LOAD_CHECKOUTS_IN_FLIGHT.name, sources) if sources else None


def browse_error_ratio(w: Window) -> float | None:
    """Failed share of the browse and cart flows' requests in the window (client side)."""
    if len(w.snaps) < 2:
        return None
    old, new = w.pair(WINDOW)
    sources = w.sources(old, new)
    good = bad = 0.0
    requests = LOAD_REQUESTS.name
    for labels, value in new.series(requests, sources).items():
        tags = dict(labels)
        if _is_checkout(tags):
            continue
        before = old.series(requests, sources).get(labels, 0.0)
        if tags.get("result") == "ok":
            good += value - before
        else:
            bad += value - before
    return None if good + bad <= 0 else bad / (good + bad)


def checkout_p95_seconds(w: Window) -> float | None:
    """95th percentile of order latency (the POSTs that place them) in the window, from the
    histogram buckets' increases."""
    if len(w.snaps) < 2:
        return None
    old, new = w.pair(WINDOW)
    sources = w.sources(old, new)
    buckets: dict[float, float] = {}
    name = LOAD_DURATION.sample("bucket")
    before = old.series(name, sources)
    for labels, value in new.series(name, sources).items():
        tags = dict(labels)
        if not _is_order(tags):
            continue
        le = math.inf if tags["le"] == "+Inf" else float(tags["le"])
        buckets[le] = buckets.get(le, 0.0) + value - before.get(labels, 0.0)
    return quantile(0.95, buckets)


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus-style histogram_quantile over cumulative bucket counts."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    rank = q * buckets[bounds[-1]]
    prev_bound, prev_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return prev_bound
            span = count - prev_count
            return prev_bound + (bound - prev_bound) * ((rank - prev_count) / span if span else 1)
        prev_bound, prev_count = bound, count
    return prev_bound


def load_cpu_percent(w: Window) -> float | None:
    """The busiest load process's own CPU use."""
    snap = w.snaps[-1]
    values = [snap.total(LOAD_CPU.name, [s]) for s in snap.values if is_load_source(s)]
    return max(values) if values else None


def error_pages_per_s(w: Window) -> float | None:
    """Dog pages the storefront showed in the last second."""
    d = w.delta(ERROR_PAGES_SHOWN.name, load=False)
    return None if d is None else d / w.seconds()


def load_target(w: Window) -> float | None:
    """The load shape's current target: arrivals/s (open model) or users (closed)."""
    snap = w.snaps[-1]
    sources = _load_sources(snap)
    return snap.total(LOAD_TARGET.name, sources) if sources else None


DERIVED: dict[str, Callable[[Window], float | None]] = {
    "load_target": load_target,
    "arrivals_per_s": _rate(LOAD_ARRIVALS.name),
    "dropped_arrivals_per_s": _rate(LOAD_DROPPED.name),
    "checkouts_per_s": checkouts_per_s,
    "checkouts_in_flight": checkouts_in_flight,
    "checkout_error_ratio": checkout_error_ratio,
    "checkout_p95_seconds": checkout_p95_seconds,
    "browse_error_ratio": browse_error_ratio,
    "load_cpu_percent": load_cpu_percent,
    "error_pages_per_s": error_pages_per_s,
}


class Deriver:
    """Keeps the window and computes every derived value for the newest snapshot.

    Given when the load started, the window begins with an empty snapshot at that moment, so
    what the load did before its first scrape counts in the first second instead of vanishing.
    """

    def __init__(self, started_at: float | None = None) -> None:
        self.window = Window(deque(maxlen=WINDOW + 1))
        if started_at is not None:
            self.window.snaps.append(Snapshot(at=started_at))

    def push(self, snap: Snapshot) -> dict[str, float | None]:
        """Add a snapshot; return every derived value now."""
        for source in _load_sources(snap):
            self.window.born.setdefault(source, snap.at)
        self.window.snaps.append(snap)
        return {name: compute(self.window) for name, compute in DERIVED.items()}


def active_faults(snap: Snapshot) -> list[str]:
    """'type->target' for every fault some service reports active."""
    out = set()
    for labels, value in snap.series(FAULT_ACTIVE.name).items():
        if value > 0:
            tags = dict(labels)
            out.add(f"{tags['fault']}->{tags['target']}")
    return sorted(out)
