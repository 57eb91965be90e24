"""`shopsim export RUN_DIR [OUT_DIR]`: a finished run as Prometheus TSDB blocks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shopsim.argtypes import directory
from shopsim.prom.export import ExportError, export_run


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `shopsim export` on the CLI."""
    p = sub.add_parser("export", help="turn a finished run's samples into Prometheus TSDB blocks")
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a game day's run directory")
    p.add_argument(
        "out_dir",
        nargs="?",
        type=directory("OUT_DIR"),
        default=None,
        metavar="OUT_DIR",
        help="where the blocks go (default RUN_DIR/tsdb)",
    )


def cmd_export(args: argparse.Namespace) -> int:
    """Export the run; say how to serve it."""
    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        print(f"shopsim export: RUN_DIR {run_dir} is not a directory", file=sys.stderr)
        return 2
    out = args.out_dir or run_dir / "tsdb"
    try:
        export_run(run_dir, out)
    except ExportError as err:
        print(f"shopsim export: {err}", file=sys.stderr)
        return 1
    print(f"exported {run_dir} -> {out}")
    print(
        f"serve it: cd {out} && prometheus --config.file=prometheus.yml --storage.tsdb.path=. "
        "--storage.tsdb.retention.time=10y --web.listen-address=127.0.0.1:9090"
    )
    return 0
