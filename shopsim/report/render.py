"""report.html and postmortem.md for one run: report.json's verdict plus plots of its series.

`write_pages(run_dir, report, run, series)` is what the game day and `shopsim report` call after
report.json is written. The page is one self-contained file: inline CSS, inline SVG plots, no
scripts, fonts or images fetched from anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from shopsim.report import plots
from shopsim.report.timeline import events, silent
from shopsim.verdict import summary
from shopsim.verdict.exitcodes import MEANING
from shopsim.verdict.rundir import Run
from shopsim.verdict.series import Series
from shopsim.verdict.slo import factor_for, slos_of

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("shopsim.report", "templates"),
    # the templates are *.html.j2: matched on "html" alone, none was escaped, and a route
    # label such as /products/<sku> vanished into the page as a tag
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}{unit}"
    return f"{value}{unit}"


def _pct(value: float | None) -> str:
    return summary._pct(value)


_ENV.filters["fmt"] = _fmt
_ENV.filters["pct"] = _pct


def _communication_line(report: dict[str, Any]) -> str | None:
    comm = report.get("communication")
    if comm is None:
        return None
    if silent(report):
        return "silent: no status post (auto-posting off)"
    gap = comm.get("max_update_gap_seconds")
    data = comm.get("resolution_states_data_impact")
    targets = comm.get("targets") or {}
    return (
        f"first post {_fmt(comm.get('first_post_seconds'), 's')} after onset "
        f"(target {_fmt(targets.get('first_post_s'), 's')}), longest gap {_fmt(gap, 's')} "
        f"(target {_fmt(targets.get('update_gap_s'), 's')}), resolution "
        + ("states data impact" if data else "does NOT state data impact")
    )


def verdict_lines(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(label, text, good) for the top of the page."""
    impact = report["impact"]
    expectations = report.get("expectations") or []
    missed = [e for e in expectations if not e["passed"]]
    lines = [
        ("culprit", summary._culprit_line(report), True),
        ("detection", summary._when_line(report), "NOT detected" not in summary._when_line(report)),
        (
            "impact",
            f"{impact['failed_checkouts']} failed checkouts, {impact['error_pages']} dog pages, "
            f"{_fmt(impact.get('affected_customers'))} customers, "
            f"{summary._money(impact.get('revenue_lost'))} lost, "
            f"{_fmt(impact.get('wrong_recipients'))} wrong mail recipients",
            not impact["failed_checkouts"] and not impact["error_pages"],
        ),
        (
            "recovery",
            summary._recovery_line(report),
            not report.get("metastable") and "NOT" not in summary._recovery_line(report),
        ),
        (
            "integrity",
            summary._integrity_line(report),
            not (report.get("integrity") or {}).get("violations"),
        ),
    ]
    if expectations:
        text = f"{len(expectations) - len(missed)}/{len(expectations)} met"
        if missed:
            text += "; missed: " + ", ".join(e["name"] for e in missed)
        lines.append(("expectations", text, not missed))
    comm = _communication_line(report)
    if comm is not None:
        passed = bool((report.get("communication") or {}).get("passed"))
        lines.append(("communication", comm, passed))
    validity = (
        "valid" if report["valid"] else "INVALID: " + "; ".join(report["validity"]["reasons"])
    )
    lines.append(("validity", validity, bool(report["valid"])))
    return lines


def context(report: dict[str, Any], run: Run, series: Series) -> dict[str, Any]:
    """Everything the templates read."""
    slos = slos_of(run.scenario)
    factor = factor_for(run.time_scale)
    return {
        "r": report,
        "meaning": MEANING.get(report["exit_code"], "?"),
        "lines": verdict_lines(report),
        "timeline": events(report),
        "silent": silent(report),
        "plots": [
            ("Traffic and checkout", plots.traffic(series, report)),
            ("Latency per service", plots.latency(series, report)),
            ("Burn rates against their thresholds", plots.burn(series, report, slos, factor)),
            ("Saturation", plots.saturation(series, report)),
            ("Business counters", plots.business(series, report)),
        ],
    }


def render_html(report: dict[str, Any], run: Run, series: Series) -> str:
    """The whole report.html text."""
    return _ENV.get_template("report.html.j2").render(**context(report, run, series))


def render_postmortem(report: dict[str, Any]) -> str:
    """postmortem.md: a draft for an SRE to edit."""
    return _ENV.get_template("postmortem.md.j2").render(
        r=report,
        lines=verdict_lines(report),
        timeline=events(report),
        silent=silent(report),
    )


def write_pages(run_dir: Path, report: dict[str, Any], run: Run, series: Series) -> list[Path]:
    """Write report.html and postmortem.md into the run directory; returns their paths."""
    html = Path(run_dir) / "report.html"
    html.write_text(render_html(report, run, series), encoding="utf-8")
    md = Path(run_dir) / "postmortem.md"
    md.write_text(render_postmortem(report), encoding="utf-8")
    return [html, md]
