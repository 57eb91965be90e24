"""Grafana dashboard JSON pieces: a dashboard with a datasource variable (no `${DS_...}`
placeholders), fault windows and firing alerts as annotations, and time-series panels."""

from __future__ import annotations

from typing import Any

from shopsim.metrics.catalogue.common import FAULT_ACTIVE

DS = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"

ANNOTATIONS = [
    {
        "name": "fault windows",
        "datasource": DS,
        "enable": True,
        "iconColor": "rgba(255, 96, 96, 1)",
        "expr": f"max by (fault, target) ({FAULT_ACTIVE.name}) > 0",
        "step": "1s",
        "titleFormat": "fault {{fault}} -> {{target}}",
        "useValueForTime": False,
    },
    {
        "name": "firing alerts",
        "datasource": DS,
        "enable": True,
        "iconColor": "rgba(255, 176, 0, 1)",
        "expr": 'max by (alertname, severity) (ALERTS{alertstate="firing"})',
        "step": "1s",
        "titleFormat": "{{alertname}} ({{severity}})",
        "useValueForTime": False,
    },
]


def target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    """One query of a panel."""
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}


def panel(
    title: str,
    queries: list[tuple[str, str]],
    unit: str = "short",
    *,
    thresholds: list[float] | None = None,
    width: int = 12,
) -> dict[str, Any]:
    """A time-series panel (position filled in by `dashboard`)."""
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": "red", "value": t} for t in thresholds or []]
    return {
        "type": "timeseries",
        "title": title,
        "datasource": DS,
        "gridPos": {"w": width, "h": 8},
        "targets": [target(e, legend, chr(ord("A") + i)) for i, (e, legend) in enumerate(queries)],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": steps},
                "custom": {"thresholdsStyle": {"mode": "line" if thresholds else "off"}},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table", "placement": "bottom"}},
    }


def dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole dashboard: panels laid out two to a row."""
    x = y = 0
    for i, p in enumerate(panels, start=1):
        w = p["gridPos"]["w"]
        if x + w > 24:
            x, y = 0, y + 8
        p["id"] = i
        p["gridPos"] |= {"x": x, "y": y}
        x += w
    return {
        "uid": uid,
        "title": title,
        "tags": ["shopsim"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": ANNOTATIONS},
        "panels": panels,
    }


def queries(dash: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel query and annotation of a dashboard."""
    out = [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]]
    out += [(f"annotation: {a['name']}", a["expr"]) for a in dash["annotations"]["list"]]
    return out
