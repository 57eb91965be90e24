"""The verdict of one run, assembled from the judges into ``report.json``, and its exit code.

Order of work (each step reads only what earlier steps produced): read the run directory;
derive the per-round series; evaluate SLOs and alerts; find the incident windows; localise each
window's culprit from metrics alone; time detection and recovery (the fault timeline is read
only now); audit the store's data; count the customer impact; judge validity; score the
scenario's expectations; decide the exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shopsim.prom.firings import compare, read_alerts
from shopsim.settings import DEPENDENCIES
from shopsim.verdict import communication
from shopsim.verdict.alerts import Alert, detection, evaluate, sli_events
from shopsim.verdict.arith import known
from shopsim.verdict.culprit import MIN_SCORE, Culprit, localise, rank
from shopsim.verdict.exitcodes import exit_code
from shopsim.verdict.expectations import score
from shopsim.verdict.impact import impact_of, service_p95
from shopsim.verdict.impact import rounded as _r
from shopsim.verdict.integrity import read_store
from shopsim.verdict.recovery import find_trigger, judge_recovery
from shopsim.verdict.rundir import Run, load_run
from shopsim.verdict.series import Series, derive
from shopsim.verdict.slo import Slo, factor_for, slos_of
from shopsim.verdict.validity import judge_validity
from shopsim.verdict.windows import Window, checkout_degraded, find_windows

REPORT_VERSION = 1


def slo_results(series: Series, slos: list[Slo]) -> list[dict[str, Any]]:
    """Each SLO over the whole run: achieved, error budget consumed, passed."""
    out = []
    for slo in slos:
        good, bad = sli_events(series, slo)
        g, b = sum(known(good)), sum(known(bad))
        achieved = g / (g + b) if g + b > 0 else None
        consumed = None if achieved is None else (1 - achieved) / slo.budget
        out.append(
            {
                "name": slo.name,
                "description": slo.describe(),
                "objective": slo.objective,
                "achieved": _r(achieved, 5),
                "budget_consumed": _r(consumed),
                "events": int(g + b),
                "passed": achieved is None or achieved >= slo.objective,
            }
        )
    return out


def _culprit_dict(culprit: Culprit) -> dict[str, Any]:
    return {
        "service": culprit.service,
        "route": culprit.route,
        "reason": culprit.reason,
        "onset_s": _r(culprit.onset_s, 1),
        "evidence": [e.as_dict() for e in culprit.evidence],
        "ranking": [
            {"service": c.service, "score": round(c.score, 2)} for c in culprit.ranking[:5]
        ],
    }


def _first_alert(alerts: list[Alert], start: float, end: float) -> Alert | None:
    found = [a for a in alerts if start - 1.0 <= a.fired_at_s <= end]
    return min(found, key=lambda a: a.fired_at_s, default=None)


def _first_page(alerts: list[Alert], since_s: float) -> float | None:
    """When the first page-level alert fired at or after `since_s` (less one scrape)."""
    found = [a.fired_at_s for a in alerts if a.severity == "page" and a.fired_at_s >= since_s - 1]
    return min(found, default=None)


def _window_dict(w: Window, culprit: Culprit, alerts: list[Alert]) -> dict[str, Any]:
    onset = w.start_s if culprit.onset_s is None else min(w.start_s, culprit.onset_s)
    first, after = detection(alerts, onset, w.end_s)
    return {
        "start_s": _r(w.start_s, 1),
        "end_s": _r(w.end_s, 1),
        "onset_s": _r(onset, 1),
        "kinds": list(w.kinds),
        "worst": {k: _r(v) for k, v in w.worst.items()},
        "culprit": _culprit_dict(culprit),
        "detected_by": None if first is None else first.name,
        "detection_seconds": None if first is None else _r(after, 1),
    }


def _anomalies(series: Series) -> list[dict[str, Any]]:
    """With no incident: services that still moved away from their usual selves."""
    n = len(series)
    base = list(range(1, max(2, n // 4)))
    during = list(range(max(2, n // 4), n))
    found = rank(series, series.services, base, during)
    return [
        {"service": c.service, "score": round(c.score, 2), "reason": c.reason()}
        for c in found[:3]
        if c.score >= MIN_SCORE
    ]


def build_report(run_dir: Path) -> dict[str, Any]:
    """The whole verdict of a run directory, as report.json holds it."""
    return analyse(run_dir)[0]


def analyse(run_dir: Path) -> tuple[dict[str, Any], Run, Series]:
    """The verdict, with the run and series it came from (report.html plots the series)."""
    run: Run = load_run(run_dir)
    series = derive(run.samples, run.origin, dict(DEPENDENCIES))
    return _verdict(run, series), run, series


def _verdict(run: Run, series: Series) -> dict[str, Any]:
    slos = slos_of(run.scenario)
    scale = run.time_scale
    alerts = evaluate(series, slos, factor_for(scale))
    windows = find_windows(series, slos, alerts, gap_s=max(3.0, 10.0 / scale))
    culprits: list[Culprit] = []
    for w in windows:
        earlier = [(x.first, x.last) for x in windows if x.last < w.first]
        culprits.append(localise(series, DEPENDENCIES, w.first, w.last, earlier))
    window_dicts = [_window_dict(w, c, alerts) for w, c in zip(windows, culprits, strict=True)]
    culprit = culprits[0] if culprits else None
    # after the fact: the injected timeline times detection and recovery, never the culprit
    trigger = find_trigger(series, run.faults)
    recovery = judge_recovery(
        series,
        checkout_degraded(series, slos),
        trigger,
        hold_s=max(5.0, 10.0 / scale),
        grace_s=max(3.0, 10.0 / scale),
        culprit=culprit.service if culprit else None,
    )
    store = read_store(run.databases, run.manifest.get("ended_at"))
    integrity = store.integrity
    db = store.impact
    validity = judge_validity(series)
    slo_list = slo_results(series, slos)
    breached = [s["name"] for s in slo_list if not s["passed"]]
    impact = impact_of(series, db)
    first_fault = min((f.start_s for f in run.faults), default=None)
    start = first_fault if first_fault is not None else (windows[0].start_s if windows else None)
    detect = None if start is None else _first_alert(alerts, start, series.t[-1])
    detection_from_fault = None if detect is None or start is None else detect.fired_at_s - start
    achieved = {s["name"]: s["achieved"] for s in slo_list}
    facts_for_expectations = {
        "culprit": culprit.service if culprit else None,
        "detection_from_fault_s": detection_from_fault,
        "recovery_seconds": recovery.recovery_seconds,
        "metastable": recovery.metastable,
        "integrity_clean": integrity.get("clean"),
        "alerted": bool(alerts),
        "breached": breached,
        "figures": {
            "checkout_success": achieved.get("checkout_availability"),
            "checkout_latency_within": achieved.get("checkout_latency"),
            "browse_success": achieved.get("browse_availability"),
            "failed_checkouts": impact["failed_checkouts"],
            "error_pages": impact["error_pages"],
            "detection_s": detection_from_fault,
            "recovery_s": recovery.recovery_seconds,
            "revenue_lost_dollars": impact["revenue_lost"],
            "wrong_recipients": impact["wrong_recipients"],
            "integrity_violations": sum((integrity.get("violations") or {}).values())
            if integrity.get("checked")
            else None,
        },
    }
    expectations = [
        e.as_dict() for e in score(run.scenario.expectations, facts_for_expectations, scale)
    ]
    said = communication.score(
        communication.read_posts(run.path / "status.jsonl"),
        auto_posting=run.scenario.status_page.auto_post,
        onset_s=window_dicts[0]["onset_s"] if window_dicts else None,
        end_s=window_dicts[-1]["end_s"] if window_dicts else None,
        factor=factor_for(scale),
        paged_at_s=_first_page(alerts, window_dicts[0]["onset_s"]) if window_dicts else None,
    )
    alert_dicts = [
        {
            "name": a.name,
            "kind": a.kind,
            "severity": a.severity,
            "fired_at_s": _r(a.fired_at_s, 1),
            "cleared_at_s": _r(a.cleared_at_s, 1),
            "peak": _r(a.peak, 2),
            "slo": a.slo,
            "owner": a.owner,
            "summary": a.summary or None,
        }
        for a in alerts
    ]
    prom = read_alerts(run.path)  # a run with --prometheus: what Prometheus itself fired
    outcome = run.manifest.get("outcome") or {}
    code, reasons = exit_code(
        outcome=outcome.get("status"),
        valid=validity.valid,
        integrity=integrity,
        expectations=expectations,
        breached=breached,
        expected_breaches=getattr(run.scenario.expectations, "slo_breaches", None),
        expects_harm=run.scenario.expectations.integrity_clean is False,
    )
    return {
        "report_version": REPORT_VERSION,
        "scenario": run.scenario.name,
        "run_dir": str(run.path),
        "time_scale": scale,
        "outcome": outcome or None,
        "verdict": "pass" if code == 0 else "fail",
        "exit_code": code,
        "exit_reasons": reasons,
        "valid": validity.valid,
        "validity": {"reasons": list(validity.reasons), "figures": validity.figures},
        "duration_s": _r(series.t[-1], 1),
        "slos": slo_list,
        "latency_p95_s": service_p95(series),
        "alerts": alert_dicts,
        "prometheus": None if prom is None else compare(alert_dicts, prom),
        "windows": window_dicts,
        "culprit": window_dicts[0]["culprit"] if window_dicts else None,
        "anomalies": [] if windows else _anomalies(series),
        "detection_seconds": window_dicts[0]["detection_seconds"] if window_dicts else None,
        "detection_from_fault_seconds": _r(detection_from_fault, 1),
        "impact": impact,
        "trigger": None
        if recovery.trigger is None
        else {
            "kind": recovery.trigger.kind,
            "start_s": _r(recovery.trigger.start_s, 1),
            "end_s": _r(recovery.trigger.end_s, 1),
        },
        "recovery_seconds": _r(recovery.recovery_seconds, 1),
        "recovered_at_s": _r(recovery.recovered_at_s, 1),
        "metastable": recovery.metastable,
        "metastability": {
            "goodput_before_per_s": _r(recovery.goodput_before, 2),
            "goodput_after_per_s": _r(recovery.goodput_after, 2),
            "offered_before_per_s": _r(recovery.offered_before, 2),
            "offered_after_per_s": _r(recovery.offered_after, 2),
            "sustaining": recovery.evidence,
        },
        "integrity": integrity,
        "communication": said,
        "expectations": expectations,
        "faults": [
            {
                "name": f.name,
                "type": f.type,
                "target": f.target,
                "start_s": _r(f.start_s, 1),
                "end_s": _r(f.end_s, 1),
            }
            for f in run.faults
        ],
    }


def write_report(run_dir: Path, report: dict[str, Any]) -> Path:
    """Write report.json into the run directory; returns its path."""
    path = Path(run_dir) / "report.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path
