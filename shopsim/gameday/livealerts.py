"""The verdict's alerts, evaluated live on the samples of a running game day.

Each scrape round's snapshot is kept (only the metrics the alerts read: the customer's side
from the load generator, and the business counters), as the same `Samples` the verdict reads
from a finished run; `verdict.alerts.evaluate` then runs over them unchanged, so an alert fires
live exactly when the report will later say it fired. Also the failing share of each customer
flow over a recent window, which says how badly each status-page component is hurt.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from shopsim.gameday.sampler import Snapshot
from shopsim.verdict import names as N
from shopsim.verdict.alerts import Alert, evaluate
from shopsim.verdict.arith import increases
from shopsim.verdict.samples import Labels, Samples, Source
from shopsim.verdict.series import derive
from shopsim.verdict.slo import Slo

#: The load generator's metrics the customer SLIs are made of (histograms by base name).
LOAD_METRICS = (N.LOAD_CHECKOUTS, N.LOAD_REQUESTS, N.LOAD_DURATION)
BUSINESS_METRICS = tuple(sorted({name for _, name, _ in N.BUSINESS.values()}))


def _kept(source: str, name: str, labels: Labels) -> bool:
    if N.is_load_source(source):
        if name.startswith(N.LOAD_DURATION):  # only order placement's latency is an SLI
            return N.is_order_request(dict(labels))
        return name.startswith(LOAD_METRICS)
    return name.startswith(BUSINESS_METRICS)


@dataclass(frozen=True)
class Firing:
    """The page-level alerts firing now, and the failing share of each flow."""

    at_s: float
    alerts: tuple[Alert, ...]
    failing: dict[str, float]  # flow -> share of its requests that failed, recent window


class LiveAlerts:
    """Samples gathered round by round, and the alerts over them."""

    def __init__(self, origin: float, slos: Sequence[Slo], factor: float, window_s: float):
        self.origin = origin  # unix time the load started: the verdict's clock
        self.slos = list(slos)
        self.factor = factor
        self.window_s = window_s
        self.rounds: list[float] = []
        self.sources: dict[str, Source] = {}

    def add(self, snap: Snapshot) -> None:
        """Keep one round's samples."""
        self.rounds.append(snap.at)
        for source, values in snap.values.items():
            src = self.sources.setdefault(source, Source(source))
            row = [float("nan")] * len(src.keys)
            for (name, labels), value in values.items():
                if not _kept(source, name, labels):
                    continue
                key = f"{name}{sorted(labels)}"
                col = src.columns.get(key)
                if col is None:
                    col = src.columns[key] = len(src.keys)
                    src.keys.append((name, labels))
                    src.by_name.setdefault(name, []).append(col)
                    row.append(float("nan"))
                row[col] = value
            src.times.append(snap.at)
            src.rows.append(array("d", row))

    def now(self) -> Firing:
        """The page-level alerts firing at the latest round, and each flow's failing share."""
        if not self.rounds:
            return Firing(0.0, (), {})
        samples = Samples(self.rounds, self.sources)  # its row index is built afresh
        series = derive(samples, self.origin, {})
        alerts = evaluate(series, self.slos, self.factor)
        firing = tuple(a for a in alerts if a.severity == "page" and a.cleared_at_s is None)
        return Firing(series.t[-1], firing, self.failing(samples, series.t))

    def failing(self, samples: Samples, t: list[float]) -> dict[str, float]:
        """Flow -> failed share of its requests over the last `window_s` seconds."""
        load = [s for s in samples.sources if N.is_load_source(s)]
        first = next((i for i, at in enumerate(t) if at > t[-1] - self.window_s), len(t))
        ok: dict[str, float] = {}
        bad: dict[str, float] = {}
        for _, labels, values in samples.series(N.LOAD_REQUESTS, load):
            flow = N.flow_of(labels)
            sent = sum(v for v in increases(values)[first:] if v is not None)
            into = ok if labels.get("result") == "ok" else bad
            into[flow] = into.get(flow, 0.0) + sent
        return {
            flow: bad.get(flow, 0.0) / (ok.get(flow, 0.0) + bad.get(flow, 0.0))
            for flow in set(ok) | set(bad)
            if ok.get(flow, 0.0) + bad.get(flow, 0.0) > 0
        }
