"""retry-storm is metastable and its shedding variant recovers, judged by the verdict.

Both built-in files run time-scaled (the hang's 10 s per request is the store's, not the
clock's, so it is not scaled): the storm must stay down after its trigger with evidence of what
sustains it, and the same store with payment shedding load must come back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopsim.gameday.bundled import resolve_scenario
from tests.verdict.test_verdict_gameday import gameday

pytestmark = [pytest.mark.processes, pytest.mark.load]
SCALE = "4"


def _report(name: str, out: Path) -> tuple[int, dict]:
    code, output, run = gameday(resolve_scenario(name), out, "--time-scale", SCALE)
    assert (run / "report.json").exists(), output
    return code, json.loads((run / "report.json").read_text())


def _why(report: dict) -> str:
    """What a failed assertion needs to be understood: validity, culprit, ranking, evidence."""
    keys = ("valid", "validity", "culprit", "metastable", "metastability", "recovery_seconds")
    windows = [(w["start_s"], w["end_s"], w["culprit"]["service"]) for w in report["windows"]]
    return json.dumps({k: report.get(k) for k in keys} | {"windows": windows}, indent=1)


def test_the_storm_stays_down_and_shedding_breaks_it(tmp_path):
    _, storm = _report("retry-storm", tmp_path / "storm")
    assert storm["culprit"]["service"] == "payment", _why(storm)
    assert storm["metastable"] is True, _why(storm)
    assert storm["recovery_seconds"] is None
    evidence = storm["metastability"]["sustaining"]
    assert evidence["attempts_per_call"] > 2 and evidence["caller_timeouts_per_s"] > 0, evidence
    _, shed = _report("retry-storm-shedding", tmp_path / "shed")
    assert shed["metastable"] is False, _why(shed)
    assert shed["recovery_seconds"] is not None, _why(shed)
