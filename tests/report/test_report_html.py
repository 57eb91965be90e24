"""report.html and postmortem.md from a synthetic incident judged by the real verdict: the page
is self-contained, tells the story top to bottom, and renders to a non-blank picture."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shopsim.report.render import render_html, render_postmortem, write_pages
from shopsim.report.timeline import events
from tests.report.synthrun import COMMUNICATION, incident

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Any, Any]:
    path = tmp_path_factory.mktemp("run")
    report, run, series = incident(path)
    return path, report, run, series


@pytest.fixture(scope="module")
def page(judged: tuple[Path, dict[str, Any], Any, Any]) -> Path:
    path, report, run, series = judged
    report = dict(report, communication=COMMUNICATION)
    html, md = write_pages(path, report, run, series)
    assert md.name == "postmortem.md" and md.stat().st_size > 500
    return html


def test_page_is_self_contained(page: Path) -> None:
    text = page.read_text()
    assert not EXTERNAL.findall(text)
    for banned in ("<script", "<link", "@import", "<img", "<iframe"):
        assert banned not in text.lower(), banned
    assert set(re.findall(r"url\(([^)]*)\)", text)) <= {
        u for u in re.findall(r"url\((#[^)]*)\)", text)
    }  # only the SVGs' own clip paths
    assert text.count("<svg") == 5  # traffic, latency, burn, saturation, business


def test_page_tells_the_story(page: Path) -> None:
    text = page.read_text()
    top = text[: text.index("Incident timeline")]
    assert 'class="badge fail"' in top
    for label in ("culprit", "detection", "impact", "recovery", "integrity", "validity"):
        assert f"<td>{label}</td>" in top
    assert "payment" in top  # the culprit, named with its evidence
    assert "communication" in top and "first post 4s" in top
    for section in ("SLOs", "Alerts", "Impact", "Integrity", "Expectations", "Communication"):
        assert f"<h2>{section}</h2>" in text
    assert "Payments are slow; working on it." in text


def test_timeline_in_postmortem_order(judged: tuple[Path, dict[str, Any], Any, Any]) -> None:
    _, report, _, _ = judged
    steps = [e.step for e in events(dict(report, communication=COMMUNICATION))]
    assert steps[:6] == [
        "trigger",
        "onset",
        "detection",
        "first status post",
        "mitigation",
        "recovery",
    ]
    timed = {e.step: e.at_s for e in events(dict(report, communication=COMMUNICATION))}
    assert timed["trigger"] == 38.0 and timed["mitigation"] == 70.0
    assert timed["first status post"] == 44.0
    assert timed["onset"] is not None and timed["detection"] is not None
    assert timed["onset"] <= timed["detection"]


@pytest.mark.parametrize(
    "communication", [None, dict(COMMUNICATION, auto_posting=False, posts=[])], ids=str
)
def test_silence_is_said(
    judged: tuple[Path, dict[str, Any], Any, Any], communication: dict[str, Any] | None
) -> None:
    _, report, run, series = judged
    report = dict(report, communication=communication)
    post = next(e for e in events(report) if e.step == "first status post")
    assert post.at_s is None and post.what.startswith("silent")
    assert "silent" in render_postmortem(report).lower()
    if communication is not None:
        assert "Silent: the status page said nothing" in render_html(report, run, series)


def test_text_from_the_run_is_escaped_in_the_page(
    judged: tuple[Path, dict[str, Any], Any, Any],
) -> None:
    _, report, run, series = judged
    post = {"at_s": 50.0, "status": "identified", "message": "<b>cart</b> & co"}
    said = dict(COMMUNICATION, posts=[*COMMUNICATION["posts"], post])
    windows = [
        dict(w, culprit=dict(w["culprit"], route="/products/<sku>")) for w in report["windows"]
    ]
    html = render_html(dict(report, communication=said, windows=windows), run, series)
    assert "&lt;b&gt;cart&lt;/b&gt; &amp; co" in html and "<b>cart</b>" not in html
    assert "/products/&lt;sku&gt;" in html and "<sku>" not in html
    md = render_postmortem(dict(report, communication=said))
    assert "<b>cart</b> & co" in md  # markdown is left as written


def test_postmortem_is_a_draft(judged: tuple[Path, dict[str, Any], Any, Any]) -> None:
    _, report, _, _ = judged
    md = render_postmortem(dict(report, communication=COMMUNICATION))
    assert md.startswith("# Postmortem (draft)")
    assert md.index("| trigger |") < md.index("| detection |") < md.index("| recovery |")
    assert "## Action items" in md and "payment" in md


@pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("SHOPSIM_REQUIRE_CHROMIUM"),
    reason="Debian chromium not installed (CI sets SHOPSIM_REQUIRE_CHROMIUM and installs it)",
)
def test_chromium_renders_it(page: Path, tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            "--window-size=1280,4000",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png.stat().st_size > 50_000
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 4000)
    small = image.resize((128, 400))
    raw = small.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    inked = sum(1 for p in pixels if sum(p) < 600)  # anything clearly not white
    assert inked > 0.01 * len(pixels)
    assert len(set(pixels)) > 200  # plots, shading and text; not one flat colour
    red_badge = image.crop((0, 0, 300, 80)).getcolors(1_000_000) or []
    assert any(r > 150 and g < 80 and b < 80 for _, (r, g, b) in red_badge)  # FAIL badge


def test_calm_run_renders(tmp_path: Path) -> None:
    report, run, series = incident(tmp_path, calm=True)
    text = render_html(report, run, series)
    assert text.count("<svg") == 5
    # healthy, but the store's data was never audited (no databases): the one missed expectation
    assert report["exit_reasons"] == ["expectation integrity_clean: expected True, got None"]
    assert 'class="badge fail"' in text and "not audited" in text
    timed = {e.step: e for e in events(report)}
    assert timed["onset"].at_s is None and timed["mitigation"].what.startswith("nothing")


def test_a_page_that_cannot_be_written_is_said_not_raised(tmp_path: Path) -> None:
    from shopsim.verdict.cli import _write_pages

    report, run, series = incident(tmp_path)
    (tmp_path / "report.html").mkdir()  # writing the page fails
    why = _write_pages(tmp_path, report, run, series)
    assert isinstance(why, str) and why.startswith("IsADirectoryError")
    (tmp_path / "report.html").rmdir()
    pages = _write_pages(tmp_path, report, run, series)
    assert not isinstance(pages, str) and pages[0].name == "report.html"
