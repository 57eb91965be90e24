"""A BARO-style baseline for root-cause ranking, to measure shopsim's culprit against.

RCAEval (Pham et al., WWW'25) found that BARO's robust scorer matches or beats graph and causal
methods on its benchmarks: split every metric at the anomaly time, fit the median and the
interquartile range on the normal part, scale the anomalous part by them, and score the metric
by its highest scaled value; the service owning the top metric is the culprit. Like RCAEval,
the anomaly time is given (the first injected fault's start), every series is used as it is
(counters as per-round increases), constant ones are dropped, and an IQR of 0 scales by 1.
The harness's own traffic (scrapes, the chaos API) is left out, as shopsim's culprit leaves it.

Only the services' own series take part (the load generator is not a service), and never the
fault injector's (`shopsim_fault_*`). A series belongs to its `service` label, else its source.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from shopsim.verdict.arith import increases
from shopsim.verdict.names import is_load_source
from shopsim.verdict.samples import Samples

COUNTER_SUFFIXES = ("_total", "_count", "_sum")
OPERATOR_ROUTES = ("/_chaos", "/_status", "/healthz", "/metrics")  # the harness's own traffic


def _robust_max(normal: list[float], anomalous: list[float]) -> float | None:
    if len(normal) < 2 or not anomalous:
        return None
    if max(normal) == min(normal) and max(anomalous) == min(anomalous) == normal[0]:
        return None  # constant throughout: says nothing
    q = statistics.quantiles(normal, n=4, method="inclusive")
    scale = (q[2] - q[0]) or 1.0
    centre = statistics.median(normal)
    return max((v - centre) / scale for v in anomalous)


def baro_ranking(
    samples: Samples,
    origin: float,
    anomaly_s: float,
    *,
    calm_until_s: float | None = None,
    until_s: float | None = None,
) -> list[tuple[str, float, str]]:
    """(service, score, top metric) for every service, best first. Normal samples are those
    before `anomaly_s` (or before `calm_until_s` when earlier: a run with an earlier incident),
    anomalous ones those from `anomaly_s` up to `until_s` (default: the end)."""
    t = [at - origin for at in samples.rounds]
    calm = anomaly_s if calm_until_s is None else min(anomaly_s, calm_until_s)
    split = next((i for i, v in enumerate(t) if v >= calm), len(t))
    begin = next((i for i, v in enumerate(t) if v >= anomaly_s), len(t))
    stop = len(t) if until_s is None else next((i for i, v in enumerate(t) if v >= until_s), len(t))
    best: dict[str, tuple[float, str]] = {}
    for source, src in samples.sources.items():
        if is_load_source(source):
            continue
        for name in src.by_name:
            if name.startswith("shopsim_fault_") or name.endswith("_bucket"):
                continue  # buckets: RCAEval's metrics carry latency quantiles, not buckets
            counter = name.endswith(COUNTER_SUFFIXES)
            for _, labels, values in samples.series(name, [source]):
                if labels.get("route", "").startswith(OPERATOR_ROUTES):
                    continue
                series = (
                    increases(values) if counter else [None if math.isnan(v) else v for v in values]
                )
                normal = [v for v in series[:split] if v is not None]
                anomalous = [v for v in series[begin:stop] if v is not None]
                score = _robust_max(normal, anomalous)
                if score is None:
                    continue
                owner = labels.get("service", source)
                if score > best.get(owner, (-math.inf, ""))[0]:
                    best[owner] = (score, _label(name, labels))
    ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)
    return [(service, score, metric) for service, (score, metric) in ranked]


def _label(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


def accuracy_at(rankings: Sequence[Sequence[str]], truths: Sequence[str], k: int) -> float:
    """AC@k: the share of cases whose true root cause is among the first k of the ranking."""
    if not truths:
        return 0.0
    hits = sum(1 for ranking, truth in zip(rankings, truths, strict=True) if truth in ranking[:k])
    return hits / len(truths)
