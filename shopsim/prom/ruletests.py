"""`promtool test rules` cases for every alert of `rules.py`, at any scale.

Each case is written in production seconds (healthy until T0 = 2h, then a fault) and divided by
the scale factor, like the rules. Every alert is checked silent before its fault and firing (with
its exact labels and annotations) during it; each burn-rate SLO also gets a slower burn (10x)
that must page on the slow tier and the ticket, and stay silent on the fast tier (14.4x).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client.utils import floatToGoString

from shopsim.prom.promql import duration
from shopsim.prom.rules import (
    DEPENDENCY_FAILING,
    SERVICE_DOWN,
    SERVICE_JOB,
    burn_alerts,
    business_alerts,
    health_alerts,
)
from shopsim.verdict import names as N
from shopsim.verdict.slo import TIERS, BurnTier, Slo

T0 = 7200.0  # production seconds of health before each fault
STEP = 60.0  # production seconds between input samples
PER_STEP = 100  # SLI events per sample interval


class Case:
    """One test group: series healthy for T0, then faulty; alert checks at chosen times."""

    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.n0 = round(T0 / STEP)
        self.series: list[tuple[str, float, float, bool]] = []  # name, before, after, gauge
        self.checks: list[dict[str, Any]] = []

    def counter(self, name: str, before: float, after: float) -> None:
        """A counter rising by `before` per step until T0, by `after` per step after it."""
        self.series.append((name, before, after, False))

    def gauge(self, name: str, before: float, after: float) -> None:
        """A gauge at `before` until T0, at `after` after it (after < 0: rising by a step)."""
        self.series.append((name, before, after, True))

    def check(self, after_t0_s: float, alert: dict[str, Any], firing: bool, **labels: str) -> None:
        """Expect `alert` firing (or not) `after_t0_s` production seconds after T0."""
        exp = []
        if firing:
            annotations = dict(alert.get("annotations", {}))
            exp.append(
                {
                    "exp_labels": {**labels, **alert["labels"]},
                    "exp_annotations": annotations,
                }
            )
        self.checks.append(
            {
                "eval_time": duration((T0 + after_t0_s) / self.factor),
                "alertname": alert["alert"],
                "exp_alerts": exp,
            }
        )

    def _values(self, before: float, after: float, gauge: bool, n1: int) -> str:
        n0 = self.n0
        if gauge and after < 0:  # an age: rises one step per step
            step = STEP / self.factor
            return f"{before:g}x{n0} {step:g}+{step:g}x{n1 - 1}"
        if gauge:
            return f"{before:g}x{n0} {after:g}x{n1 - 1}"
        top = before * n0
        return f"0+{before:g}x{n0} {top + after:g}+{after:g}x{n1 - 1}"

    def as_dict(self) -> dict[str, Any]:
        """The test group."""
        latest = max(_seconds(c["eval_time"]) for c in self.checks)
        n1 = round((latest * self.factor - T0) / STEP) + 5
        return {
            "interval": duration(STEP / self.factor),
            "input_series": [
                {"series": name, "values": self._values(b, a, g, n1)}
                for name, b, a, g in self.series
            ],
            "alert_rule_test": self.checks,
        }


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for unit in ("ms", "s", "m", "h", "d"):
        if text.endswith(unit) and text[: -len(unit)].isdigit():
            return int(text[: -len(unit)]) * units[unit]
    raise ValueError(text)


def _sli_series(case: Case, slo: Slo, bad_share: float) -> None:
    bad = round(PER_STEP * bad_share)
    if slo.sli == "checkout_availability":
        case.counter(f'{N.LOAD_CHECKOUTS}{{result="ok"}}', PER_STEP, PER_STEP - bad)
        case.counter(f'{N.LOAD_CHECKOUTS}{{result="error_page"}}', 0, bad)
    elif slo.sli == "browse_availability":
        base = f'{N.LOAD_REQUESTS}{{name="/",method="GET",flow="browse"'
        case.counter(base + ',result="ok"}', PER_STEP, PER_STEP - bad)
        case.counter(base + ',result="failure"}', 0, bad)
    else:
        base = f'{N.LOAD_DURATION}_bucket{{name="/checkout",method="POST",flow="checkout"'
        le = floatToGoString(slo.threshold_s or 0.0)
        case.counter(base + f',le="{le}"}}', PER_STEP, PER_STEP - bad)
        case.counter(base + ',le="+Inf"}', PER_STEP, PER_STEP)


def _burn_at(tier: BurnTier, bad_share: float, after_s: float, budget: float) -> float:
    """The burn rate a tier's windows both see `after_s` after the fault began (lower one)."""

    def seen(window: float) -> float:
        return bad_share * min(after_s, window) / min(T0 + after_s, window) / budget

    return min(seen(tier.long_s), seen(tier.short_s))


def _first_firing(tier: BurnTier, bad_share: float, budget: float) -> float:
    """The first quarter hour after the fault at which the tier is clearly (20%) above."""
    after = 900.0
    while _burn_at(tier, bad_share, after, budget) <= 1.2 * tier.burn_rate:
        after += 900.0
    return after


def burn_cases(slos: Sequence[Slo], factor: float) -> list[dict[str, Any]]:
    """Every SLO at once (their series are apart): an outage pages every tier (each when its
    windows have seen enough of it); a 10x burn pages slow and ticket and never fast."""
    alerts = {a["alert"]: a for a in burn_alerts(slos, factor)}
    outage, slow = Case(factor), Case(factor)
    for slo in slos:
        _sli_series(outage, slo, 1.0)
        _sli_series(slow, slo, 10 * slo.budget)
        for tier in TIERS:
            alert = alerts[f"{slo.name}_{tier.name}"]
            outage.check(-STEP, alert, False, slo=slo.name)
            outage.check(_first_firing(tier, 1.0, slo.budget), alert, True, slo=slo.name)
            fires = _burn_at(tier, 10 * slo.budget, 5 * 3600, slo.budget) > tier.burn_rate
            assert fires == (tier.burn_rate < 10), tier  # the case means what it says
            slow.check(5 * 3600, alert, fires, slo=slo.name)
    return [outage.as_dict(), slow.as_dict()]


def business_cases(factor: float) -> list[dict[str, Any]]:
    """Each business alert (one group, apart series): silent while the numbers are in
    proportion, firing once not; a busy outbox (age below the bound) stays silent."""
    alerts = {a["alert"]: a for a in business_alerts(factor)}
    b = {k: v[1] for k, v in N.BUSINESS.items()}
    case = Case(factor)
    case.counter(f'{b["gift_purchases"]}{{kind="baby"}}', 1, 1)
    case.counter(f'{b["gift_alert_mails"]}{{template="gift_alert"}}', 1, 20)
    pay = b["authorizations"]
    case.counter(f'{pay}{{operation="authorize",outcome="approved"}}', 10, 10)
    case.counter(f'{pay}{{operation="authorize",outcome="declined"}}', 0, 10)
    case.gauge(b["orders_charged_twice"], 0, 1)
    case.gauge(b["oversold_units"], 0, 3)
    case.gauge(b["outbox_oldest_age_s"], 0, -1)
    when = {
        "gift_alerts_out_of_proportion": 900.0,
        "declines_out_of_proportion": 900.0,
        "orders_charged_twice": 2 * STEP,
        "stock_oversold": 2 * STEP,
        "outbox_stalled": 1800.0,
    }
    for name, after in when.items():
        case.check(-STEP, alerts[name], False)
        case.check(after, alerts[name], True)
    case.check(300, alerts["outbox_stalled"], False)
    return [case.as_dict()]


def health_cases(factor: float) -> list[dict[str, Any]]:
    """A dependency refusing connections; a service that stops answering its scrape."""
    alerts = {a["alert"]: a for a in health_alerts(factor)}
    case = Case(factor)
    edge = f'{N.DEP_REQUESTS}{{service="checkout",dependency="payment"'
    case.counter(edge + ',outcome="success"}', 10, 0)
    case.counter(edge + ',outcome="connect_error"}', 0, 10)
    failing = dict(alerts[DEPENDENCY_FAILING.name])
    failing["annotations"] = {
        "summary": "most calls from checkout to payment fail (100%): "
        "the dependency is down or unreachable"
    }
    case.check(-STEP, failing, False, service="checkout", dependency="payment")
    case.check(900, failing, True, service="checkout", dependency="payment")
    target = {"job": SERVICE_JOB, "source": "cart", "instance": "127.0.0.1:9102"}
    case.gauge("up{" + ",".join(f'{k}="{v}"' for k, v in target.items()) + "}", 1, 0)
    gone = dict(alerts[SERVICE_DOWN.name])
    gone["annotations"] = {"summary": "cart does not answer its metrics scrape"}
    case.check(-STEP, gone, False, **target)
    case.check(600, gone, True, **target)
    return [case.as_dict()]


def rule_tests(rules_file: str, slos: Sequence[Slo], factor: float) -> dict[str, Any]:
    """The whole `promtool test rules` file for a rules file at a scale."""
    return {
        "rule_files": [rules_file],
        "evaluation_interval": duration(STEP / factor),
        "tests": burn_cases(slos, factor) + business_cases(factor) + health_cases(factor),
    }
