"""The verdict of real game days: real store, real Locust, real faults, then `shopsim report`.

One run with two incidents (cart errors, then a slow payment gateway) is shared by the tests
of this module: each window must name its own injected target, the verdict must survive being
blinded (no fault timeline, no fault series, no active_faults column), report.json must match
its schema, and `shopsim report` must rebuild the same verdict.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from shopsim.settings import Settings
from shopsim.verdict.report import build_report
from tests.conftest import free_port_base

pytestmark = [pytest.mark.processes, pytest.mark.load]
HERE = Path(__file__).parent
SCHEMA = Path(__file__).parents[2] / "shopsim" / "verdict" / "report.schema.json"


def gameday(scenario: Path, out: Path, *extra: str) -> tuple[int, str, Path]:
    """Run `shopsim gameday` as a user would; return its status, output and run directory."""
    port_base = Settings(port_base=free_port_base()).port_base
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopsim",
            "gameday",
            str(scenario),
            "--out",
            str(out),
            "--port-base",
            str(port_base),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    runs = sorted(out.iterdir())
    assert len(runs) == 1, proc.stdout + proc.stderr
    return proc.returncode, proc.stdout + proc.stderr, runs[0]


@pytest.fixture(scope="module")
def two_incidents(tmp_path_factory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("runs")
    return gameday(HERE / "scenarios" / "two-incidents.yaml", out, "--time-scale", "2")


def test_each_incident_names_its_own_injected_target(two_incidents):
    code, out, run = two_incidents
    report = json.loads((run / "report.json").read_text())
    culprits = [w["culprit"]["service"] for w in report["windows"]]
    assert culprits == ["cart", "payment"], out
    assert report["culprit"]["service"] == "cart"
    assert all(w["detected_by"] for w in report["windows"]), report["alerts"]
    assert report["valid"], report["validity"]
    assert "verdict:" in out and "culprit     cart" in out


def test_the_verdict_passes_when_its_expectations_hold(two_incidents):
    code, out, run = two_incidents
    report = json.loads((run / "report.json").read_text())
    assert report["integrity"]["checked"] and report["integrity"]["clean"], report["integrity"]
    assert code == report["exit_code"] == 0, (report["exit_reasons"], out)


def test_without_auto_posting_the_status_page_stays_silent(two_incidents):
    _, out, run = two_incidents
    said = json.loads((run / "report.json").read_text())["communication"]
    assert not (run / "status.jsonl").exists()
    assert said["auto_posting"] is False and said["posts"] == [] and said["passed"] is False
    assert "status page silent for the whole incident" in out


def test_report_json_matches_its_schema(two_incidents):
    report = json.loads((two_incidents[2] / "report.json").read_text())
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))


def _blind(src: Path, dst: Path) -> None:
    """A copy of a run with every trace of the injected faults removed."""
    shutil.copytree(src, dst)
    (dst / "faults.jsonl").unlink()
    scenario = yaml.safe_load((dst / "scenario.yaml").read_text())
    scenario.pop("faults", None)
    (dst / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    for path in (dst / "samples").glob("*.prom.gz"):
        with gzip.open(path, "rt") as handle:
            kept = [line for line in handle if "shopsim_fault_" not in line]
        with gzip.open(path, "wt") as handle:
            handle.writelines(kept)
    with open(dst / "series.csv") as handle:
        rows = list(csv.reader(handle))
    drop = rows[0].index("active_faults")
    with open(dst / "series.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([r[:drop] + r[drop + 1 :] for r in rows])


def test_a_blinded_run_gets_the_same_culprits(two_incidents, tmp_path):
    run = two_incidents[2]
    blind = tmp_path / "blind"
    _blind(run, blind)
    for path in (blind / "samples").glob("*.gz"):
        assert "shopsim_fault_" not in gzip.decompress(path.read_bytes()).decode()
    seen = build_report(run)
    blinded = build_report(blind)
    assert blinded["faults"] == []
    assert [w["culprit"]["service"] for w in blinded["windows"]] == [
        w["culprit"]["service"] for w in seen["windows"]
    ]
    assert [w["culprit"]["evidence"] for w in blinded["windows"]] == [
        w["culprit"]["evidence"] for w in seen["windows"]
    ]


def test_shopsim_report_rebuilds_the_same_verdict(two_incidents):
    code, _, run = two_incidents
    before = json.loads((run / "report.json").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "shopsim", "report", str(run)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == code
    after = json.loads((run / "report.json").read_text())
    assert after == before
    assert proc.stdout.startswith("verdict:")


def test_shopsim_report_on_a_directory_that_is_not_a_run_says_so(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "shopsim", "report", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no manifest.json" in proc.stderr and "Traceback" not in proc.stderr


def test_the_game_day_writes_report_html_and_postmortem(two_incidents):
    code, out, run = two_incidents
    html = (run / "report.html").read_text()
    assert html.count("<svg") == 5 and "<script" not in html
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html)
    assert "cart" in html[: html.index("Incident timeline")]  # the first culprit, up top
    postmortem = (run / "postmortem.md").read_text()
    assert postmortem.startswith("# Postmortem (draft): two-incidents")
    assert "| incident 2 onset |" in postmortem  # the second incident has its own lines
    assert "report.html" in out


def test_compare_of_a_run_with_itself_finds_no_regression(two_incidents):
    run = two_incidents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "shopsim", "compare", str(run), str(run)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "p95 per service (s): payment" in proc.stdout and "no regression" in proc.stdout
