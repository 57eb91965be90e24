"""Open-model timing: the share of arrivals started within 10 ms of their intended time.

The open model's scheduler (loadtests/openmodel.py) reports every arrival's start lag to
Locust as an ARRIVAL "start lag" sample, in milliseconds; a game day keeps Locust's JSON report
(`locust.json`), whose `response_times` is a histogram of those lags (exact to the millisecond
below 100 ms, rounded coarser above). Dropped arrivals are that row's failures and count as not
on time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ON_TIME_MS = 10
ROW = ("ARRIVAL", "start lag")


def start_lags(report: Any) -> dict[int, int] | None:
    """The start-lag histogram {ms: arrivals} of a Locust JSON report, or None without one."""
    for row in report:
        if (row.get("method"), row.get("name")) == ROW:
            return {int(float(k)): int(v) for k, v in row.get("response_times", {}).items()}
    return None


def on_time(path: Path, within_ms: int = ON_TIME_MS) -> dict[str, Any]:
    """The figures of one run's `locust.json`: arrivals, on-time share, worst lag."""
    report = json.loads(path.read_text())
    lags = start_lags(report) or {}
    total = sum(lags.values())
    early = sum(n for ms, n in lags.items() if ms <= within_ms)
    dropped = next(
        (int(r.get("num_failures", 0)) for r in report if (r.get("method"), r.get("name")) == ROW),
        0,
    )
    return {
        "arrivals_on_time_share": early / (total + dropped) if total + dropped else None,
        "arrivals": total,
        "arrivals_dropped": dropped,
        "arrival_lag_max_ms": max(lags) if lags else None,
    }
