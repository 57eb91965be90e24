"""`shopsim report RUN_DIR`: rebuild a run's verdict (report.json, report.html, postmortem.md and
the summary) at any time.

The verdict is a pure function of the run directory, so a report can be rebuilt after the
analysis improves, on another machine, or from a copy of the directory (the integrity audit
then needs the databases the manifest names). Exit status: the verdict's (see exitcodes.py),
or 2 when RUN_DIR is not a run directory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsim.report.render import write_pages
from shopsim.verdict.exitcodes import USAGE
from shopsim.verdict.report import analyse, write_report
from shopsim.verdict.rundir import Run, RunDirError
from shopsim.verdict.series import Series
from shopsim.verdict.summary import summarise


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `shopsim report` on the CLI."""
    report = sub.add_parser("report", help="rebuild a finished run's verdict and report")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a game day's directory")
    report.add_argument(
        "--json", action="store_true", help="print report.json instead of the summary"
    )


def _write_pages(
    run_dir: Path, report: dict[str, Any], run: Run, series: Series
) -> tuple[Path, ...] | str:
    """report.html and postmortem.md, or why they could not be written. The verdict stands in
    report.json either way, so a failure to draw never hides it behind a traceback."""
    try:
        return tuple(write_pages(run_dir, report, run, series))
    except Exception as err:  # noqa: BLE001 - any plotting or template failure, reported
        return f"{type(err).__name__}: {err}"


def verdict_of(run_dir: Path, echo: Callable[[str], None] = print) -> int:
    """Build, write and show the verdict of a run; return its exit code."""
    report, run, series = analyse(run_dir)
    path = write_report(run_dir, report)
    pages = _write_pages(run_dir, report, run, series)
    echo(summarise(report))
    echo(f"  report      {path}")
    if isinstance(pages, str):
        echo(f"  ! report.html and postmortem.md not written: {pages}")
    else:
        echo(f"  read        {pages[0]}  (postmortem draft: {pages[1].name})")
    return int(report["exit_code"])


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild report.json for RUN_DIR and print the summary (or the JSON)."""
    try:
        if args.json:
            report, run, series = analyse(args.run_dir)
            write_report(args.run_dir, report)
            pages = _write_pages(args.run_dir, report, run, series)
            if isinstance(pages, str):
                print(f"shopsim report: report.html not written: {pages}", file=sys.stderr)
            print(json.dumps(report, indent=2, default=str))
            return int(report["exit_code"])
        return verdict_of(args.run_dir)
    except RunDirError as err:
        print(f"shopsim report: {err}", file=sys.stderr)
        return USAGE
