"""`shopsim compare RUN_A RUN_B`: two runs' verdicts side by side; CI gates on the exit code.

RUN_A is the baseline, RUN_B the candidate. Each is a run directory (its report.json is read,
and built first when missing) or a report.json file. Exit codes:
  0  nothing got worse beyond the tolerances
  1  something regressed (the rows marked WORSE)
  2  usage: a bad argument, or a path that is neither a run directory nor a report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import jinja2

from shopsim.report.compare import TOLERANCES, Row, as_json, compare
from shopsim.verdict.report import build_report, write_report
from shopsim.verdict.rundir import RunDirError

OK, REGRESSED, USAGE = 0, 1, 2


class CompareError(ValueError):
    """A bad argument; the message names it."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `shopsim compare` on the CLI."""
    p = sub.add_parser(
        "compare",
        help="two runs' verdicts side by side; exit 1 when RUN_B regressed against RUN_A",
        description="Exit 0: no regression; 1: something got worse beyond a tolerance; 2: usage.",
    )
    p.add_argument("run_a", type=Path, metavar="RUN_A", help="baseline run directory or report")
    p.add_argument("run_b", type=Path, metavar="RUN_B", help="candidate run directory or report")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--html", type=Path, metavar="OUT", help="also write a small HTML page")
    p.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="; ".join(f"{k} (default {v}): {what}" for k, (v, what) in TOLERANCES.items()),
    )


def tolerances(specs: list[str]) -> dict[str, float]:
    """Defaults overridden by NAME=VALUE specs."""
    out = {k: v for k, (v, _) in TOLERANCES.items()}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or name not in out:
            raise CompareError(
                f"--tolerance {spec!r}: expected NAME=VALUE with NAME one of {', '.join(out)}"
            )
        try:
            out[name] = float(value)
        except ValueError:
            raise CompareError(f"--tolerance {name}: {value!r} is not a number") from None
        if out[name] < 0:
            raise CompareError(f"--tolerance {name}: must not be negative")
    return out


def load(path: Path) -> dict[str, Any]:
    """A report from a run directory (built when missing) or a report.json file."""
    if path.is_file():
        try:
            return dict(json.loads(path.read_text()))
        except ValueError as exc:
            raise CompareError(f"{path}: not a report.json ({exc})") from None
    if not path.is_dir():
        raise CompareError(f"{path}: no such run directory or report.json")
    found = path / "report.json"
    if found.is_file():
        return load(found)
    try:
        report = build_report(path)
    except RunDirError as err:
        raise CompareError(str(err)) from None
    write_report(path, report)
    return report


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def text(rows: list[Row], a: dict[str, Any], b: dict[str, Any]) -> str:
    """The comparison as a plain table."""
    lines = [f"{k}: {r.get('scenario')} ({r.get('run_dir')})" for k, r in (("A", a), ("B", b))]
    width = max(len(f"{r.section}: {r.name}") for r in rows)
    lines.append(f"{'':{width}}  {'A':>12}  {'B':>12}")
    for r in rows:
        mark = "  WORSE" if r.worse else ""
        note = f" ({r.note})" if r.note else ""
        label = f"{r.section}: {r.name}"
        lines.append(f"{label:{width}}  {_cell(r.a):>12}  {_cell(r.b):>12}{mark}{note}")
    worse = [r for r in rows if r.worse]
    lines.append(
        f"REGRESSED: {len(worse)} figure(s) worse beyond tolerance" if worse else "no regression"
    )
    return "\n".join(lines)


def html(rows: list[Row], a: dict[str, Any], b: dict[str, Any], tol: dict[str, float]) -> str:
    """The comparison as a small self-contained HTML page."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shopsim.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    return env.get_template("compare.html.j2").render(rows=rows, a=a, b=b, tol=tol)


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare two runs; exit 1 when B regressed against A."""
    try:
        tol = tolerances(args.tolerance)
        a, b = load(args.run_a), load(args.run_b)
    except CompareError as err:
        print(f"shopsim compare: {err}", file=sys.stderr)
        return USAGE
    rows = compare(a, b, tol)
    if args.json:
        print(json.dumps(as_json(a, b, rows, tol), indent=2, default=str))
    else:
        print(text(rows, a, b))
    if args.html:
        args.html.write_text(html(rows, a, b, tol), encoding="utf-8")
    return REGRESSED if any(r.worse for r in rows) else OK
