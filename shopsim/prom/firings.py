"""Which alerts Prometheus fired when, read back from its API at the end of a run, and how they
compare with the verdict's own evaluation of the same alerts.

Prometheus writes an `ALERTS{alertstate="firing"}` sample at every rule evaluation while an
alert fires: the raw samples of the run (a range selector, not a range query) give each firing's
first and last evaluation to the millisecond. Times are run seconds (from the load's start).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopsim.prom.server import PrometheusServer
from shopsim.verdict.slo import SCRAPE_INTERVAL_S

ALERTS_FILE = "alerts.json"
GAP_S = 2.5 * SCRAPE_INTERVAL_S  # a longer gap between samples ends a firing


def spans(times: list[float], end: float) -> list[tuple[float, float | None]]:
    """(fired, cleared) from the evaluation times of one alert series; None: still firing."""
    out: list[tuple[float, float | None]] = []
    first = last = None
    for t in sorted(times):
        if first is None:
            first = last = t
        elif last is not None and t - last > GAP_S:
            out.append((first, last + SCRAPE_INTERVAL_S))
            first = t
        last = t
    if first is not None and last is not None:
        out.append((first, None if end - last <= GAP_S else last + SCRAPE_INTERVAL_S))
    return out


def record_alerts(
    server: PrometheusServer, origin: float, end: float, out: Path
) -> list[dict[str, Any]]:
    """Read every firing (and pending) alert sample of the run; write alerts.json into `out`."""
    seconds = max(1, int(end - origin + 30))
    found = []
    for state, metric in (("firing", "ALERTS"), ("pending", "ALERTS")):
        data = server.query(f'{metric}{{alertstate="{state}"}}[{seconds}s]', at=end)
        for item in data["result"]:
            labels = {
                k: v for k, v in item["metric"].items() if k not in ("__name__", "alertstate")
            }
            times = [float(t) for t, _ in item["values"]]
            for fired, cleared in spans(times, end):
                found.append(
                    {
                        "name": labels.get("alertname"),
                        "state": state,
                        "labels": labels,
                        "fired_at_s": round(fired - origin, 3),
                        "cleared_at_s": None if cleared is None else round(cleared - origin, 3),
                    }
                )
    found.sort(key=lambda a: (a["fired_at_s"], a["name"]))
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "prometheus": server.url,
        "origin": origin,
        "end": end,
        "scrape_interval_s": SCRAPE_INTERVAL_S,
        "alerts": found,
    }
    (out / ALERTS_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return found


def read_alerts(run_dir: Path) -> dict[str, Any] | None:
    """prometheus/alerts.json of a run, or None when the run had no Prometheus."""
    path = Path(run_dir) / "prometheus" / ALERTS_FILE
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text())  # as record_alerts wrote it
    return record


def compare(verdict: list[dict[str, Any]], prom: dict[str, Any]) -> dict[str, Any]:
    """Pair each verdict alert firing with Prometheus' firing of the same alert nearest in time;
    the difference is Prometheus' time minus the verdict's, in seconds."""
    fired = [a for a in prom["alerts"] if a["state"] == "firing"]
    known = {a["name"] for a in verdict}
    used: set[int] = set()
    pairs = []
    for a in verdict:
        same = [
            (i, p)
            for i, p in enumerate(fired)
            if p["name"] == a["name"] and p["labels"].get("slo") == a.get("slo") and i not in used
        ]
        if not same:
            pairs.append(
                {
                    "name": a["name"],
                    "verdict_fired_at_s": a["fired_at_s"],
                    "prometheus_fired_at_s": None,
                    "difference_s": None,
                }
            )
            continue
        i, p = min(same, key=lambda ip: abs(ip[1]["fired_at_s"] - a["fired_at_s"]))
        used.add(i)
        pairs.append(
            {
                "name": a["name"],
                "verdict_fired_at_s": a["fired_at_s"],
                "prometheus_fired_at_s": p["fired_at_s"],
                "difference_s": round(p["fired_at_s"] - a["fired_at_s"], 2),
                # clearing is shown, not judged: the verdict's last round may end a firing
                "verdict_cleared_at_s": a.get("cleared_at_s"),
                "prometheus_cleared_at_s": p["cleared_at_s"],
            }
        )
    only_prom = [
        {"name": p["name"], "fired_at_s": p["fired_at_s"], "labels": p["labels"]}
        for i, p in enumerate(fired)
        if i not in used
    ]
    diffs = [abs(p["difference_s"]) for p in pairs if p["difference_s"] is not None]
    tolerance = 2 * float(prom.get("scrape_interval_s", SCRAPE_INTERVAL_S))
    return {
        "alerts": fired,
        "pairs": pairs,
        "only_prometheus": [p for p in only_prom if p["name"] in known],
        "prometheus_health_alerts": [p for p in only_prom if p["name"] not in known],
        "max_difference_s": max(diffs) if diffs else None,
        "tolerance_s": tolerance,
        "agree": all(p["difference_s"] is not None for p in pairs)
        and not [p for p in only_prom if p["name"] in known]
        and all(d <= tolerance for d in diffs),
    }
