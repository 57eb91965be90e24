"""What a metric is, as data, and the one function that turns a definition into a metric.

A `Metric` says everything a reader of the metric needs: its name as scraped, its type, what
it means, its labels (and the values a label may take, when they are a fixed set), its unit,
its histogram buckets and which processes export it. `make` creates the prometheus_client
object on a given registry, with every combination of fixed label values at zero, so ratios
have series before the first event.

Only prometheus_client is imported here: the load generator (Locust, gevent) imports this too.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

M = TypeVar("M", Counter, Gauge, Histogram)

TYPE_NAMES: Mapping[type, str] = MappingProxyType(
    {Counter: "counter", Gauge: "gauge", Histogram: "histogram"}
)


@dataclass(frozen=True)
class Metric(Generic[M]):
    """One metric family as the catalogue defines it."""

    kind: type[M]
    #: The name as scraped: counters end in ``_total``.
    name: str
    help: str
    #: Who exports it: service names, or "load" for the load generator's processes.
    sources: tuple[str, ...]
    labels: tuple[str, ...] = ()
    #: The base unit the name ends with ("seconds", "bytes", ...); "" for a count.
    unit: str = ""
    buckets: tuple[float, ...] = ()
    #: The values a label may take, for labels whose values are a fixed set.
    values: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: Made by this prometheus_client collector instead of `make` (process_* metrics).
    collector: str = ""
    #: When the family only appears after something happened (else: from the start).
    appears: str = ""

    @property
    def type(self) -> str:
        """The Prometheus type: counter, gauge or histogram."""
        return TYPE_NAMES[self.kind]

    @property
    def family(self) -> str:
        """The family name a parser reports (a counter's without ``_total``)."""
        return self.name.removesuffix("_total") if self.kind is Counter else self.name

    def sample(self, suffix: str = "") -> str:
        """The name of one of its samples: ``sample("bucket")`` -> ``<name>_bucket``."""
        return f"{self.name}_{suffix}" if suffix else self.name


def make(metric: Metric[M], registry: CollectorRegistry) -> M:
    """Create `metric` on `registry`; when every label has a fixed set of values, create
    every combination at zero (a gauge's at 0, a histogram's with empty buckets)."""
    if metric.collector:
        raise ValueError(f"{metric.name} is made by {metric.collector}, not by make()")
    options: dict[str, Any] = {"registry": registry}
    if metric.kind is Histogram:
        options["buckets"] = metric.buckets
    created = metric.kind(metric.name, metric.help, metric.labels, **options)
    if metric.labels and all(label in metric.values for label in metric.labels):
        for combination in itertools.product(*(metric.values[label] for label in metric.labels)):
            created.labels(*combination)
    return created
