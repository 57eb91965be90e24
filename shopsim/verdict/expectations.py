"""Scoring the scenario's expectations: what it said would happen, against what did.

The fault timeline is read here (and only here and in recovery timing): `detected_within` is
counted from the first fault's start, as the scenario file documents it. A scenario that
expects harm (`integrity_clean: false`) is met when the harm happened *and* an alert caught it.
Thresholds name a figure of the verdict with `_min` or `_max` (shopsim.gameday.fields.FIGURES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Expectation:
    """One expectation, scored."""

    name: str
    expected: Any
    actual: Any
    passed: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For report.json."""
        out = {"name": self.name, "expected": self.expected, "actual": self.actual}
        return out | {"passed": self.passed, "note": self.note or None}


def score(expect: Any, facts: Mapping[str, Any], time_scale: float) -> list[Expectation]:
    """Every expectation the scenario gives, against the verdict's facts.

    `facts` keys: culprit, detection_from_fault_s, recovery_seconds, metastable,
    integrity_clean (None when not audited), alerted (any alert fired), breached (SLO names),
    figures (name -> value, see FIGURES)."""
    out: list[Expectation] = []
    if expect.culprit is not None:
        got = facts.get("culprit")
        out.append(Expectation("culprit", expect.culprit, got, got == expect.culprit))
    if expect.detected_within_s is not None:
        bound = expect.detected_within_s / time_scale
        got = facts.get("detection_from_fault_s")
        ok = got is not None and got <= bound
        note = "" if got is not None else "no alert fired"
        out.append(Expectation("detected_within_s", _r(bound), _r(got), ok, note))
    if expect.recovers_within_s is not None:
        bound = expect.recovers_within_s / time_scale
        got = facts.get("recovery_seconds")
        ok = got is not None and got <= bound
        out.append(
            Expectation(
                "recovers_within_s",
                _r(bound),
                _r(got),
                ok,
                "" if ok or got is not None else "did not recover",
            )
        )
    if expect.metastable is not None:
        got = facts.get("metastable")
        out.append(Expectation("metastable", expect.metastable, got, got == expect.metastable))
    if expect.integrity_clean is not None:
        clean = facts.get("integrity_clean")
        if clean is None:
            out.append(
                Expectation(
                    "integrity_clean",
                    expect.integrity_clean,
                    None,
                    False,
                    "the store's data could not be audited",
                )
            )
        elif expect.integrity_clean:
            out.append(Expectation("integrity_clean", True, clean, clean))
        else:
            caught = bool(facts.get("alerted"))
            note = "" if caught or clean else "harm happened but no alert caught it"
            out.append(Expectation("integrity_clean", False, clean, not clean and caught, note))
    breaches = getattr(expect, "slo_breaches", None)
    if breaches is not None:
        got = sorted(facts.get("breached", []))
        out.append(Expectation("slo_breaches", sorted(breaches), got, got == sorted(breaches)))
    figures = facts.get("figures", {})
    for key, bound in sorted(expect.thresholds.items()):
        figure, _, side = key.rpartition("_")
        value = figures.get(figure)
        if value is None:
            out.append(Expectation(key, bound, None, False, f"{figure} was not measured"))
            continue
        ok = value >= bound if side == "min" else value <= bound
        out.append(Expectation(key, bound, _r(value), ok))
    return out


def _r(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value
