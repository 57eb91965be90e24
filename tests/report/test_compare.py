"""`shopsim compare`: identical runs exit 0, a worse candidate exits 1 with the figures marked,
bad arguments exit 2; silence against auto-posting shows in the communication rows."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shopsim.cli import main
from shopsim.report.compare import compare
from shopsim.report.compare_cli import tolerances
from tests.report.synthrun import COMMUNICATION, incident


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    report, _, _ = incident(tmp_path_factory.mktemp("a"))
    return report


def _write(path: Path, report: dict[str, Any]) -> Path:
    path.write_text(json.dumps(report, default=str))
    return path


def test_identical_runs_pass(baseline: dict[str, Any], tmp_path: Path, capsys) -> None:
    a = _write(tmp_path / "a.json", baseline)
    out = tmp_path / "cmp.html"
    assert main(["compare", str(a), str(a), "--html", str(out)]) == 0
    assert "no regression" in capsys.readouterr().out
    page = out.read_text()
    assert "No regression" in page and "<script" not in page and "http" not in page


def test_regression_exits_1_and_names_it(baseline: dict[str, Any], tmp_path: Path, capsys) -> None:
    worse = copy.deepcopy(baseline)
    worse["slos"][0]["achieved"] = baseline["slos"][0]["achieved"] - 0.05
    worse["impact"]["failed_checkouts"] = baseline["impact"]["failed_checkouts"] * 3 + 10
    worse["latency_p95_s"]["payment"] = baseline["latency_p95_s"]["payment"] * 2
    a, b = _write(tmp_path / "a.json", baseline), _write(tmp_path / "b.json", worse)
    assert main(["compare", str(a), str(b), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    flagged = {(r["section"], r["name"]) for r in result["rows"] if r["worse"]}
    assert flagged == {
        ("SLOs", baseline["slos"][0]["name"]),
        ("impact", "failed checkouts"),
        ("p95 per service (s)", "payment"),
    }
    # the other direction is an improvement, not a regression
    assert main(["compare", str(b), str(a)]) == 0
    # a loose enough tolerance lets the same change through
    loose = ["--tolerance", "slo=0.1", "--tolerance", "count=10", "--tolerance", "latency=2"]
    assert main(["compare", str(a), str(b), *loose]) == 0


def test_silence_against_auto_posting(baseline: dict[str, Any]) -> None:
    posting = dict(baseline, communication=COMMUNICATION)
    silent = dict(baseline, communication=dict(COMMUNICATION, auto_posting=False, posts=[]))
    rows = compare(posting, silent, tolerances([]))
    status = next(r for r in rows if r.name == "status posts")
    assert (status.a, status.b, status.worse) == (3, "silent", True)
    assert not any(r.worse for r in compare(silent, posting, tolerances([])))


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "/nonexistent/a", "/nonexistent/b"],
        ["compare", "{a}", "{a}", "--tolerance", "speed=1"],
        ["compare", "{a}", "{a}", "--tolerance", "slo=abc"],
    ],
)
def test_usage_errors_exit_2(
    baseline: dict[str, Any], tmp_path: Path, argv: list[str], capsys
) -> None:
    a = _write(tmp_path / "a.json", baseline)
    assert main([x.format(a=a) for x in argv]) == 2
    assert "shopsim compare:" in capsys.readouterr().err
