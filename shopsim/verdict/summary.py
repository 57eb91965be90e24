"""The summary a person reads in ten seconds at the end of a game day (from report.json)."""

from __future__ import annotations

from typing import Any

from shopsim.verdict.communication import summary_line
from shopsim.verdict.exitcodes import MEANING


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:g}s"


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def _culprit_line(report: dict[str, Any]) -> str:
    culprit = report.get("culprit")
    if culprit is None:
        anomalies = report.get("anomalies") or []
        if anomalies:
            a = anomalies[0]
            return f"no incident; worth a look: {a['service']} ({a['reason']})"
        return "no incident: checkout, browsing and the business numbers stayed healthy"
    where = f" ({culprit['route']})" if culprit.get("route") else ""
    if culprit["service"] is None:
        return f"unclear: {culprit['reason']}"
    return f"{culprit['service']}{where}: {culprit['reason']}"


def _when_line(report: dict[str, Any]) -> str:
    windows = report.get("windows") or []
    if not windows:
        return "no degradation window"
    parts = []
    for w in windows:
        hurt = ", ".join(k.removeprefix("business:") for k in w["kinds"])
        detect = (
            f"detected {_s(w['detection_seconds'])} after onset by {w['detected_by']}"
            if w["detected_by"]
            else "NOT detected by any alert"
        )
        parts.append(f"{_s(w['onset_s'])}-{_s(w['end_s'])} ({hurt}); {detect}")
    more = f" [{len(windows)} incidents]" if len(windows) > 1 else ""
    return "; ".join(parts) + more


def _recovery_line(report: dict[str, Any]) -> str:
    trigger = report.get("trigger")
    if report.get("metastable"):
        m = report["metastability"]
        s = m.get("sustaining") or {}
        kept = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in s.items())
        return (
            f"METASTABLE: after the trigger ended ({_s(trigger and trigger['end_s'])}) checkout "
            f"goodput stayed at {m['goodput_after_per_s']}/s (was {m['goodput_before_per_s']}/s) "
            f"under the same load; sustained by {kept or 'unknown'}"
        )
    if trigger is None:
        return "no trigger (no fault, no surge)"
    if report.get("recovery_seconds") is None:
        return f"NOT recovered by the end of the run (trigger ended at {_s(trigger['end_s'])})"
    return (
        f"healthy {_s(report['recovery_seconds'])} after the {trigger['kind']} ended "
        f"(at {_s(report['recovered_at_s'])})"
    )


def _integrity_line(report: dict[str, Any]) -> str:
    integrity = report.get("integrity") or {}
    if not integrity.get("checked"):
        return f"not audited ({integrity.get('reason', 'no databases')})"
    violations = integrity.get("violations") or {}
    if not violations:
        return "clean: every charge, order, unit and mail accounted for"
    kinds = ", ".join(f"{k} x{n}" for k, n in sorted(violations.items()))
    return f"VIOLATED: {kinds}"


def _prometheus_line(prom: dict[str, Any]) -> str:
    pairs = prom["pairs"]
    matched = [p for p in pairs if p["difference_s"] is not None]
    text = f"{len(prom['alerts'])} firings; {len(matched)}/{len(pairs)} of the verdict's matched"
    if prom["max_difference_s"] is not None:
        text += f", largest difference {prom['max_difference_s']:g}s"
    if prom["only_prometheus"]:
        text += "; only in Prometheus: " + ", ".join(p["name"] for p in prom["only_prometheus"])
    health = sorted({p["name"] for p in prom["prometheus_health_alerts"]})
    if health:
        text += "; health: " + ", ".join(health)
    verdict = "agree" if prom["agree"] else "DISAGREE"
    return f"{text} ({verdict} within {prom['tolerance_s']:g}s)"


def summarise(report: dict[str, Any]) -> str:
    """The verdict in a few lines."""
    code = report["exit_code"]
    impact = report["impact"]
    lines = [
        f"verdict: {report['verdict'].upper()} (exit {code}: {MEANING.get(code, '?')})",
        f"  culprit     {_culprit_line(report)}",
        f"  when        {_when_line(report)}",
        "  impact      "
        f"{impact['failed_checkouts']} failed checkouts, {impact['error_pages']} dog pages, "
        f"{impact['affected_customers'] if impact['affected_customers'] is not None else '?'} "
        f"customers, {_money(impact['revenue_lost'])} lost, "
        f"{impact['wrong_recipients'] if impact['wrong_recipients'] is not None else '?'} "
        "wrong mail recipients",
        f"  recovery    {_recovery_line(report)}",
        f"  integrity   {_integrity_line(report)}",
        f"  status page {summary_line(report.get('communication'))}",
        "  SLOs        "
        + "; ".join(
            f"{s['name']} {_pct(s['achieved'])} of {_pct(s['objective'])}"
            + ("" if s["passed"] else " BREACHED")
            for s in report["slos"]
        ),
    ]
    expectations = report.get("expectations") or []
    if expectations:
        missed = [e for e in expectations if not e["passed"]]
        text = f"{len(expectations) - len(missed)}/{len(expectations)} met"
        if missed:
            text += "; missed: " + "; ".join(
                f"{e['name']} expected {e['expected']}, got {e['actual']}"
                + (f" ({e['note']})" if e.get("note") else "")
                for e in missed
            )
        lines.append(f"  expected    {text}")
    prom = report.get("prometheus")
    if prom is not None:
        lines.append(f"  prometheus  {_prometheus_line(prom)}")
    if not report["valid"]:
        lines.append("  INVALID     " + "; ".join(report["validity"]["reasons"]))
    return "\n".join(lines)
