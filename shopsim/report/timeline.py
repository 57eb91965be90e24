"""The incident timeline in postmortem order, read from report.json alone.

Order: trigger, onset, detection, first status post, mitigation, recovery (then any later
incident's onset and detection). Each entry says when (run seconds, or None when it never
happened) and what, in words an SRE would keep in the postmortem draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One line of the timeline."""

    step: str
    at_s: float | None
    what: str


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:g}s"


def silent(report: dict[str, Any]) -> bool:
    """True when the run posted nothing to the status page (or was not scored for it)."""
    comm = report.get("communication")
    return not comm or not comm.get("auto_posting") or not comm.get("posts")


def _fault_text(report: dict[str, Any]) -> str:
    faults = report.get("faults") or []
    if not faults:
        return "no fault injected"
    return "; ".join(f"{f['name']} ({f['type']} on {f['target']})" for f in faults[:3]) + (
        f" and {len(faults) - 3} more" if len(faults) > 3 else ""
    )


def events(report: dict[str, Any]) -> list[Event]:
    """The timeline, in postmortem order."""
    trigger = report.get("trigger")
    windows = report.get("windows") or []
    out = [
        Event(
            "trigger",
            trigger["start_s"] if trigger else None,
            (f"{trigger['kind']} began: " if trigger else "") + _fault_text(report),
        )
    ]
    first = windows[0] if windows else None
    if first is None:
        out.append(Event("onset", None, "customers were never measurably hurt"))
    else:
        culprit = first["culprit"]
        who = culprit["service"] or "unclear"
        out.append(
            Event(
                "onset",
                first["onset_s"],
                f"{', '.join(first['kinds'])} degraded; culprit {who}: {culprit['reason']}",
            )
        )
        if first["detected_by"]:
            at = (first["onset_s"] or 0) + (first["detection_seconds"] or 0)
            out.append(
                Event(
                    "detection",
                    round(at, 1),
                    f"{first['detected_by']} fired {_s(first['detection_seconds'])} after onset",
                )
            )
        else:
            out.append(Event("detection", None, "NOT detected: no alert fired"))
    comm = report.get("communication") or {}
    if silent(report):
        why = "no status page scoring in this run" if not comm else "auto-posting off"
        out.append(Event("first status post", None, f"silent: customers were told nothing ({why})"))
    else:
        post = comm["posts"][0]
        out.append(
            Event("first status post", post["at_s"], f"[{post['status']}] {post['message']}")
        )
    if trigger and trigger.get("end_s") is not None:
        out.append(Event("mitigation", trigger["end_s"], f"the {trigger['kind']} ended"))
    elif not trigger:
        out.append(Event("mitigation", None, "nothing to mitigate: no fault, no surge"))
    else:
        out.append(Event("mitigation", None, "the trigger never ended during the run"))
    if report.get("metastable"):
        m = report.get("metastability") or {}
        out.append(
            Event(
                "recovery",
                None,
                "METASTABLE: goodput stayed at "
                f"{m.get('goodput_after_per_s')}/s (was {m.get('goodput_before_per_s')}/s)",
            )
        )
    elif report.get("recovered_at_s") is not None:
        out.append(
            Event(
                "recovery",
                report["recovered_at_s"],
                f"healthy again {_s(report.get('recovery_seconds'))} after mitigation",
            )
        )
    elif first is not None or trigger:
        out.append(Event("recovery", None, "not recovered by the end of the run"))
    for n, w in enumerate(windows[1:], start=2):
        who = w["culprit"]["service"] or "unclear"
        out.append(
            Event(f"incident {n} onset", w["onset_s"], f"{', '.join(w['kinds'])}; culprit {who}")
        )
        detect = (
            f"{w['detected_by']} fired {_s(w['detection_seconds'])} after onset"
            if w["detected_by"]
            else "NOT detected"
        )
        at = None if not w["detected_by"] else (w["onset_s"] or 0) + (w["detection_seconds"] or 0)
        out.append(Event(f"incident {n} detection", at, detect))
    return out
