"""Scoring shopsim's culprit and the BARO baseline against a case's true root causes.

A case is one game day; an incident is one injected failure in it (faults starting together are
one incident; a case with no fault, a pure surge, has one incident starting when the load peaks).
The truth of each incident is declared: the scenario's `expectations.culprit`, or, for a case
with several incidents, its list in loadtests/accuracy/roots.yaml.

shopsim's answer for an incident is the blind verdict's (report.json): the culprit of the first
incident window that overlaps the incident, then the rest of that window's ranking; with no
window at all, the verdict's "anomalies" list. The injected timeline is read only to tell which
window belongs to which incident and where the baseline splits normal from anomalous, as
RCAEval gives BARO the anomaly time. Each incident's baseline uses the samples before the first
incident as normal and those from its own start to the next incident's as anomalous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopsim.verdict.baseline import accuracy_at, baro_ranking
from shopsim.verdict.rundir import FaultWindow, Run

NOBODY = "-"  # shopsim named no culprit: counts as a miss at rank one
SAME_INCIDENT_S = 1.0  # faults starting within this of each other are one incident


@dataclass(frozen=True)
class Incident:
    """One injected failure and both answers for it, best first."""

    case: str
    truth: str
    start_s: float
    shopsim: tuple[str, ...]
    baro: tuple[str, ...]

    def hit(self, which: str, k: int) -> bool:
        """Whether the truth is among the first k of shopsim's or the baseline's answer."""
        ranking = self.shopsim if which == "shopsim" else self.baro
        return self.truth in ranking[:k]


def incident_starts(faults: Sequence[FaultWindow], surge_s: float | None) -> list[float]:
    """Run seconds at which each incident began: fault starts, grouped; else the surge."""
    starts: list[float] = []
    for f in sorted(faults, key=lambda f: f.start_s):
        if not starts or f.start_s - starts[-1] > SAME_INCIDENT_S:
            starts.append(f.start_s)
    if not starts and surge_s is not None:
        starts.append(surge_s)
    return starts


def surge_start(stages: Sequence[Any], time_scale: float) -> float | None:
    """When the busiest stage of a load begins (a ramp leading to it counts), in run seconds."""
    at, best, begins = 0.0, None, 0.0
    prev_rate = None
    for stage in stages:
        rate = float(getattr(stage, "rate", 0) or 0)
        ramp_start = at if getattr(stage, "ramp", False) else None
        if best is None or rate > best:
            best = rate
            begins = ramp_start if ramp_start is not None and prev_rate is not None else at
        prev_rate = rate
        at += float(stage.duration_s)
    return None if best is None else begins / time_scale


def shopsim_answer(report: Mapping[str, Any], start: float, end: float) -> tuple[str, ...]:
    """The verdict's culprit for the incident [start, end), then the rest of its ranking."""
    for w in report.get("windows") or []:
        if w["end_s"] >= start and w["start_s"] < end:
            culprit = w.get("culprit") or {}
            first = culprit.get("service") or NOBODY
            rest = [r["service"] for r in culprit.get("ranking") or [] if r["service"] != first]
            return (first, *rest)
    if not report.get("windows"):
        return tuple(a["service"] for a in report.get("anomalies") or []) or (NOBODY,)
    return (NOBODY,)


def incidents_of(run: Run, report: Mapping[str, Any], truths: Sequence[str]) -> list[Incident]:
    """Every incident of a finished case, with shopsim's and the baseline's answers."""
    surge = surge_start(run.scenario.load.stages, run.time_scale)
    starts = incident_starts(run.faults, surge)
    if len(starts) != len(truths):
        raise ValueError(
            f"{run.scenario.name}: {len(starts)} incident(s) in the run, "
            f"{len(truths)} true root cause(s) declared"
        )
    end_of_run = run.samples.rounds[-1] - run.origin if run.samples.rounds else 0.0
    calm_until = starts[0] if starts else 0.0
    out = []
    for k, (start, truth) in enumerate(zip(starts, truths, strict=True)):
        end = starts[k + 1] if k + 1 < len(starts) else end_of_run + 1.0
        baro = baro_ranking(run.samples, run.origin, start, calm_until_s=calm_until, until_s=end)
        out.append(
            Incident(
                run.scenario.name,
                truth,
                start,
                shopsim_answer(report, start, end),
                tuple(service for service, _, _ in baro),
            )
        )
    return out


def scores(incidents: Sequence[Incident]) -> dict[str, dict[str, float]]:
    """AC@1 and AC@3 of shopsim and of the baseline over the incidents."""
    truths = [i.truth for i in incidents]
    return {
        name: {
            f"ac@{k}": accuracy_at([getattr(i, name) for i in incidents], truths, k) for k in (1, 3)
        }
        for name in ("shopsim", "baro")
    }
