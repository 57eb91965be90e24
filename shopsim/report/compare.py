"""Two runs' verdicts side by side, and what got worse beyond a tolerance.

Rows compare report.json figures of run A (the baseline) and run B (the candidate): SLO
achievement, p95 server time per service, detection, recovery, customer impact, integrity and,
when both runs scored it, communication. A row regresses when B is worse than A by more than
its tolerance (see TOLERANCES); a figure that A had and B lost (an alert that no longer fires,
a recovery that no longer happens) regresses too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# name -> (default, what it bounds)
TOLERANCES: dict[str, tuple[float, str]] = {
    "slo": (0.005, "SLO achievement may drop by this much (0.005 = half a percentage point)"),
    "latency": (0.25, "p95 may grow by this share (0.25 = 25%), and by at least 5 ms"),
    "seconds": (5.0, "detection, recovery and status-post times may grow by this many seconds"),
    "count": (0.25, "impact counts may grow by this share, and by at least 2"),
}


@dataclass(frozen=True)
class Row:
    """One compared figure."""

    section: str
    name: str
    a: Any
    b: Any
    worse: bool
    note: str = ""


def _more(a: float | None, b: float | None, abs_tol: float, rel_tol: float = 0.0) -> bool:
    """B is larger than A beyond tolerance (None in B where A had a value: worse)."""
    if a is None:
        return False
    if b is None:
        return True
    return b > a + max(abs_tol, abs(a) * rel_tol)


def _gained(a: Any, b: Any) -> bool:
    """Lower-is-better numbers where None means 'never happened' (e.g. detection): a value that
    went missing is worse; a value that appeared is not."""
    return a is not None and b is None


def _slos(a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> list[Row]:
    rows = []
    bs = {s["name"]: s for s in b.get("slos") or []}
    for s in a.get("slos") or []:
        other = bs.get(s["name"])
        if other is None:
            continue
        av, bv = s["achieved"], other["achieved"]
        worse = av is not None and bv is not None and bv < av - tol["slo"]
        broke = s["passed"] and not other["passed"]
        note = "newly BREACHED" if broke else ""
        rows.append(Row("SLOs", s["name"], av, bv, worse or broke, note))
    return rows


def _latency(a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> list[Row]:
    pa, pb = a.get("latency_p95_s") or {}, b.get("latency_p95_s") or {}
    return [
        Row(
            "p95 per service (s)",
            name,
            pa[name],
            pb.get(name),
            pb.get(name) is not None and _more(pa[name], pb.get(name), 0.005, tol["latency"]),
        )
        for name in pa
        if pa[name] is not None
    ]


def _timing(a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> list[Row]:
    sec = tol["seconds"]
    da, db = a.get("detection_from_fault_seconds"), b.get("detection_from_fault_seconds")
    ra, rb = a.get("recovery_seconds"), b.get("recovery_seconds")
    return [
        Row("detection", "first alert after the fault (s)", da, db, _more(da, db, sec)),
        Row(
            "detection",
            "incidents not detected",
            sum(1 for w in a.get("windows") or [] if not w.get("detected_by")),
            sum(1 for w in b.get("windows") or [] if not w.get("detected_by")),
            sum(1 for w in b.get("windows") or [] if not w.get("detected_by"))
            > sum(1 for w in a.get("windows") or [] if not w.get("detected_by")),
        ),
        Row("recovery", "recovery after the trigger (s)", ra, rb, _more(ra, rb, sec)),
        Row(
            "recovery",
            "metastable",
            bool(a.get("metastable")),
            bool(b.get("metastable")),
            bool(b.get("metastable")) and not a.get("metastable"),
        ),
    ]


IMPACT_KEYS = (
    "failed_checkouts",
    "error_pages",
    "affected_customers",
    "revenue_lost",
    "wrong_recipients",
    "overcharged_customers",
    "oversold_units",
)


def _impact(a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> list[Row]:
    ia, ib = a.get("impact") or {}, b.get("impact") or {}
    rows = []
    for key in IMPACT_KEYS:
        av, bv = ia.get(key), ib.get(key)
        worse = av is not None and bv is not None and _more(av, bv, 2.0, tol["count"])
        rows.append(Row("impact", key.replace("_", " "), av, bv, worse))
    return rows


def _violations(report: dict[str, Any]) -> int | None:
    integrity = report.get("integrity") or {}
    if not integrity.get("checked"):
        return None
    return int(sum((integrity.get("violations") or {}).values()))


def _integrity(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    va, vb = _violations(a), _violations(b)
    worse = va is not None and vb is not None and vb > va
    return [Row("integrity", "violations", va, vb, worse, "" if vb is not None else "not audited")]


def _communication(a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> list[Row]:
    ca, cb = a.get("communication"), b.get("communication")
    if not ca and not cb:
        return []
    ca, cb = ca or {}, cb or {}

    def posts(c: dict[str, Any]) -> int:
        return len(c.get("posts") or []) if c.get("auto_posting") else 0

    sec = tol["seconds"]
    fa, fb = ca.get("first_post_seconds"), cb.get("first_post_seconds")
    ga, gb = ca.get("max_update_gap_seconds"), cb.get("max_update_gap_seconds")
    return [
        Row(
            "communication",
            "status posts",
            posts(ca) or "silent",
            posts(cb) or "silent",
            posts(ca) > 0 and posts(cb) == 0,
        ),
        Row("communication", "first post after onset (s)", fa, fb, _more(fa, fb, sec)),
        Row("communication", "longest gap between updates (s)", ga, gb, _more(ga, gb, sec)),
        Row(
            "communication",
            "resolution states data impact",
            ca.get("resolution_states_data_impact"),
            cb.get("resolution_states_data_impact"),
            bool(ca.get("resolution_states_data_impact"))
            and not cb.get("resolution_states_data_impact"),
        ),
        Row(
            "communication",
            "passed",
            ca.get("passed"),
            cb.get("passed"),
            bool(ca.get("passed")) and not cb.get("passed"),
        ),
    ]


def compare(a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> list[Row]:
    """Every compared row, A (baseline) against B (candidate)."""
    head = [
        Row(
            "verdict",
            "verdict",
            a.get("verdict"),
            b.get("verdict"),
            a.get("verdict") == "pass" and b.get("verdict") != "pass",
        ),
        Row(
            "verdict",
            "culprit",
            (a.get("culprit") or {}).get("service"),
            (b.get("culprit") or {}).get("service"),
            False,
        ),
    ]
    return (
        head
        + _slos(a, b, tol)
        + _latency(a, b, tol)
        + _timing(a, b, tol)
        + _impact(a, b, tol)
        + _integrity(a, b)
        + _communication(a, b, tol)
    )


def as_json(
    a: dict[str, Any], b: dict[str, Any], rows: list[Row], tol: dict[str, float]
) -> dict[str, Any]:
    """The comparison as `--json` prints it."""
    return {
        "a": {"scenario": a.get("scenario"), "run_dir": a.get("run_dir")},
        "b": {"scenario": b.get("scenario"), "run_dir": b.get("run_dir")},
        "tolerances": tol,
        "regressed": any(r.worse for r in rows),
        "rows": [asdict(r) for r in rows],
    }
