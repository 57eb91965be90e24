"""Prometheus rules generated from `verdict/slo.py`: the same SLOs, tiers and business alerts the
verdict evaluates, at a production scale (factor 1: hours and days) or a rehearsal scale (every
window and `for` divided by `factor`, as `BurnTier.windows` does for the verdict).

Groups (Sloth's shape): recording rules for each SLO's error ratio and burn rate over every window
a tier needs; one multiwindow alert per SLO and tier, named as the verdict names it
(`checkout_availability_fast_burn`), so Prometheus' ALERTS and report.json line up by name;
business alerts; and health alerts a dead service still trips (its callers' failing calls, and
`up == 0`, since a dead service's own counters just stop).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import yaml

from shopsim.prom.promql import business_sum, duration, selector, sli_error_ratio
from shopsim.verdict import names as N
from shopsim.verdict.slo import (
    BUSINESS_ALERTS,
    MIN_WINDOW_S,
    SCRAPE_INTERVAL_S,
    TIERS,
    BusinessAlert,
    Slo,
    slos_of,
)

SERVICE_JOB = "shopsim"  # scrape job of the services' side ports
LOAD_JOB = "shopsim-load"  # scrape job of the load generator's exporters


@dataclass(frozen=True)
class HealthAlert:
    """An alert on the store's health that needs no SLO: production window and `for`."""

    name: str
    summary: str
    window_s: float
    for_s: float


DEPENDENCY_FAILING = HealthAlert(
    "dependency_failing",
    "most calls from {{ $labels.service }} to {{ $labels.dependency }} fail "
    "({{ $value | humanizePercentage }}): the dependency is down or unreachable",
    300,
    120,
)
SERVICE_DOWN = HealthAlert(
    "service_down", "{{ $labels.source }} does not answer its metrics scrape", 0, 60
)
FAILING_SHARE = 0.5  # of a caller's attempts to a dependency


def default_slos() -> list[Slo]:
    """The SLOs a scenario gets when it names none."""
    from shopsim.gameday.scenario import Slos  # the scenario model's defaults

    return slos_of(SimpleNamespace(slos=Slos()))


def ratio_name(window: str) -> str:
    """The recording rule of an SLO's error ratio over a window."""
    return f"shopsim:slo_error_ratio:rate{window}"


def burn_name(window: str) -> str:
    """The recording rule of an SLO's burn rate over a window."""
    return f"shopsim:slo_burn_rate:rate{window}"


def slo_windows(factor: float) -> list[float]:
    """Every window (rehearsal seconds) some tier needs, ascending."""
    return sorted({w for tier in TIERS for w in tier.windows(factor)[:2]})


def recording_rules(slos: Sequence[Slo], factor: float) -> list[dict[str, Any]]:
    """Error ratio and burn rate of every SLO over every window."""
    rules: list[dict[str, Any]] = []
    for slo in slos:
        for seconds in slo_windows(factor):
            w = duration(seconds)
            labels = {"slo": slo.name}
            rules.append(
                {"record": ratio_name(w), "expr": sli_error_ratio(slo, w), "labels": labels}
            )
            rules.append(
                {
                    "record": burn_name(w),
                    "expr": f'{ratio_name(w)}{{slo="{slo.name}"}} / {slo.budget:.6g}',
                    "labels": labels,
                }
            )
    return rules


def burn_alerts(slos: Sequence[Slo], factor: float) -> list[dict[str, Any]]:
    """One multiwindow burn-rate alert per SLO and tier: both windows above the tier's rate."""
    rules = []
    for slo in slos:
        for tier in TIERS:
            long_s, short_s, for_s = tier.windows(factor)
            long_w, short_w = duration(long_s), duration(short_s)
            sel = f'{{slo="{slo.name}"}}'
            rules.append(
                {
                    "alert": f"{slo.name}_{tier.name}",
                    "expr": f"{burn_name(long_w)}{sel} > {tier.burn_rate:g}\n"
                    f"and\n{burn_name(short_w)}{sel} > {tier.burn_rate:g}",
                    "for": duration(for_s),
                    "labels": {
                        "severity": tier.severity,
                        "kind": "burn_rate",
                        "slo": slo.name,
                        "tier": tier.name,
                    },
                    "annotations": {
                        "summary": f"{slo.describe()}: error budget burning faster than "
                        f"{tier.burn_rate:g}x over {long_w} and {short_w}",
                    },
                }
            )
    return rules


def business_window(alert: BusinessAlert, factor: float) -> float:
    """The alert's window in rehearsal seconds (as the verdict scales it)."""
    return max(MIN_WINDOW_S, alert.window_s / factor)


def business_bound(alert: BusinessAlert, factor: float) -> float:
    """A level alert's bound (ages are scaled like windows)."""
    if alert.level_scaled:
        return max(alert.floor / factor, MIN_WINDOW_S)
    return alert.floor


def business_expr(alert: BusinessAlert, factor: float) -> str:
    """numerator > factor x denominator + floor over the window, or a level above its bound."""
    if alert.denominator is None:
        kind = N.BUSINESS[alert.numerator][0]
        w = None if kind == "gauge" else duration(business_window(alert, factor))
        return f"{business_sum(alert.numerator, w)} > {business_bound(alert, factor):g}"
    w = duration(business_window(alert, factor))
    num = business_sum(alert.numerator, w)
    den = f"({business_sum(alert.denominator, w)} or vector(0))"
    return f"{num}\n> {alert.factor:g} * {den} + {alert.floor:g}"


def business_alerts(factor: float) -> list[dict[str, Any]]:
    """Every business alert of `slo.BUSINESS_ALERTS`."""
    return [
        {
            "alert": a.name,
            "expr": business_expr(a, factor),
            "labels": {"severity": a.severity, "kind": "business", "owner": a.owner},
            "annotations": {"summary": a.summary},
        }
        for a in BUSINESS_ALERTS
    ]


def health_alerts(factor: float) -> list[dict[str, Any]]:
    """Caller-side failures per edge, and targets that stopped answering their scrape."""
    dep = DEPENDENCY_FAILING
    w = duration(max(MIN_WINDOW_S, dep.window_s / factor))
    failing = selector(N.DEP_REQUESTS, {}, {"outcome": "server_error|timeout|connect_error"})
    sent = selector(N.DEP_REQUESTS, {}, {"outcome": "|".join(N.SENT_OUTCOMES)})
    by = "sum by (service, dependency)"
    return [
        {
            "alert": dep.name,
            "expr": f"{by} (rate({failing}[{w}]))\n/\n{by} (rate({sent}[{w}]))\n"
            f"> {FAILING_SHARE:g}",
            "for": duration(max(2 * SCRAPE_INTERVAL_S, dep.for_s / factor)),
            "labels": {"severity": "page", "kind": "health"},
            "annotations": {"summary": dep.summary},
        },
        {
            "alert": SERVICE_DOWN.name,
            "expr": f'up{{job="{SERVICE_JOB}"}} == 0',
            "for": duration(max(2 * SCRAPE_INTERVAL_S, SERVICE_DOWN.for_s / factor)),
            "labels": {"severity": "page", "kind": "health"},
            "annotations": {"summary": SERVICE_DOWN.summary},
        },
    ]


def rule_groups(slos: Sequence[Slo], factor: float) -> dict[str, Any]:
    """The whole rules file as data."""
    return {
        "groups": [
            {"name": "shopsim-slo-recording", "rules": recording_rules(slos, factor)},
            {"name": "shopsim-slo-alerts", "rules": burn_alerts(slos, factor)},
            {"name": "shopsim-business-alerts", "rules": business_alerts(factor)},
            {"name": "shopsim-health-alerts", "rules": health_alerts(factor)},
        ]
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL) as literal blocks; no &anchors for repeated label maps."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(data: dict[str, Any], header: str = "") -> str:
    """YAML text of a rules (or test) file, with a comment header."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    return header + body


def render_rules(slos: Sequence[Slo], factor: float) -> str:
    """The rules file's text."""
    scale = "production scale" if factor == 1 else f"rehearsal scale (windows / {factor:g})"
    header = (
        f"# Generated by `python -m shopsim.prom.files` from shopsim/verdict/slo.py; {scale}.\n"
        "# Edit the definitions, not this file.\n"
    )
    return to_yaml(rule_groups(slos, factor), header)
