"""Compare what a process exports with the metric catalogue: every family declared for that
source, with the declared type, labels and fixed label values, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from shopsim.metrics.catalogue import CATALOGUE
from shopsim.metrics.definition import Metric

BY_FAMILY = {m.family: m for m in CATALOGUE}


def declared_for(source: str) -> dict[str, Metric]:
    """The catalogue's metrics that `source` (a service name or "load") exports."""
    return {m.family: m for m in CATALOGUE if source in m.sources}


def problems(source: str, families: Iterable[Any], *, complete: bool = True) -> list[str]:
    """What differs between `families` (prometheus_client Metric families) and the catalogue.

    With `complete`, every family declared for `source` must be there too, except those that
    only appear after something happened (`Metric.appears`)."""
    out: list[str] = []
    mine = declared_for(source)
    seen = set()
    for family in families:
        seen.add(family.name)
        metric = mine.get(family.name)
        if metric is None:
            where = "catalogued for others" if family.name in BY_FAMILY else "not in the catalogue"
            out.append(f"{source}: {family.name} ({family.type}) {where}")
            continue
        if family.type != metric.type:
            out.append(f"{source}: {metric.name} is a {family.type}, declared {metric.type}")
        for sample in family.samples:
            labels = {k: v for k, v in sample.labels.items() if k != "le"}
            if set(labels) != set(metric.labels):
                out.append(f"{source}: {sample.name} labels {sorted(labels)}")
                continue
            for label, value in labels.items():
                allowed = metric.values.get(label)
                if allowed is not None and value not in allowed:
                    out.append(f"{source}: {sample.name} {label}={value!r} not in {allowed}")
    if complete:
        missing = [m.name for f, m in mine.items() if f not in seen and not m.appears]
        out += [f"{source}: {name} declared but not exported" for name in missing]
    return out


def parsed(text: str) -> list[Any]:
    """The families of a Prometheus text exposition."""
    return list(text_string_to_metric_families(text))
