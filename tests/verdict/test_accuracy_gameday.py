"""`shopsim accuracy` end to end on one real case, time-scaled: a real store, Locust and a fault,
then the blind verdict and the baseline scored against the case's declared root."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shopsim.settings import Settings
from tests.conftest import free_port_base

pytestmark = [pytest.mark.processes, pytest.mark.load]
CASE = "error-cart"  # cart answers half its requests with a 500: checkout and browsing suffer


def test_one_case_is_run_judged_and_scored(tmp_path):
    port_base = Settings(port_base=free_port_base()).port_base
    proc = subprocess.run(
        [sys.executable, "-m", "shopsim", "accuracy", CASE, "--json", "--time-scale", "1.25"]
        + ["--out", str(tmp_path), "--port-base", str(port_base)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["failed"] == []
    [incident] = result["incidents"]
    assert incident["case"] == "acc-error-cart" and incident["truth"] == "cart"
    assert incident["shopsim"][0] == "cart"  # the blind verdict names the injected target
    assert incident["shopsim_hit_at_1"] is True
    assert len(incident["baro"]) == 3 and all(isinstance(s, str) for s in incident["baro"])
    assert result["scores"]["shopsim"]["ac@1"] == 1.0
    assert 0.0 <= result["scores"]["baro"]["ac@1"] <= 1.0
    [run] = list(tmp_path.iterdir())
    report = json.loads((run / "report.json").read_text())
    assert report["windows"] and report["windows"][0]["culprit"]["service"] == "cart"
