"""Metrics: the catalogue of every metric (`catalogue`), the function that makes one from its
definition (`definition.make`), the metrics every service shares (`ServiceMetrics`), and the
generator of METRICS.md (`doc`). prometheus_client only: the load generator imports this too.
"""

from __future__ import annotations

from shopsim.metrics.catalogue.values import DB_WAIT_BUCKETS, DEPENDENCY_OUTCOMES, LATENCY_BUCKETS
from shopsim.metrics.definition import Metric, make
from shopsim.metrics.service import ServiceMetrics

__all__ = [
    "DB_WAIT_BUCKETS",
    "DEPENDENCY_OUTCOMES",
    "LATENCY_BUCKETS",
    "Metric",
    "ServiceMetrics",
    "make",
]
