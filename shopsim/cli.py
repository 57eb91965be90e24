"""The `shopsim` command: up, seed, status, bench, fault, gameday, scenarios, report.

Every command that talks to a running storefront takes ``--port-base N`` (default 8100), the
same number `shopsim up` was given. Mistakes in arguments end with a one-line message and exit
status 2; a failure of the store itself with exit status 1.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from shopsim import __version__
from shopsim.argtypes import bounded, directory
from shopsim.argtypes import db_url as _db_url
from shopsim.argtypes import port_base as _port_base
from shopsim.argtypes import seed as _seed
from shopsim.bench import add_parser as add_bench_parser
from shopsim.bench import cmd_bench
from shopsim.capacity.cli import add_parser as add_capacity_parser
from shopsim.capacity.cli import cmd_capacity
from shopsim.faults.cli import add_parser as add_fault_parser
from shopsim.faults.cli import cmd_fault
from shopsim.gameday.cli import add_parser as add_gameday_parser
from shopsim.gameday.cli import add_scenarios_parser, cmd_gameday, cmd_scenarios
from shopsim.gameday.sampler import port_range
from shopsim.matrix.cli import add_parser as add_matrix_parser
from shopsim.matrix.cli import cmd_matrix
from shopsim.prom.config_cli import add_parser as add_prometheus_config_parser
from shopsim.prom.config_cli import cmd_prometheus_config
from shopsim.prom.export_cli import add_parser as add_export_parser
from shopsim.prom.export_cli import cmd_export
from shopsim.report.compare_cli import add_parser as add_compare_parser
from shopsim.report.compare_cli import cmd_compare
from shopsim.runner import Stack, StackError, check_health
from shopsim.seed import apply, generate
from shopsim.settings import SERVICE_NAMES, Settings
from shopsim.verdict.accuracy_cli import add_parser as add_accuracy_parser
from shopsim.verdict.accuracy_cli import cmd_accuracy
from shopsim.verdict.cli import add_parser as add_report_parser
from shopsim.verdict.cli import cmd_report


class Terminated(BaseException):
    """SIGINT or SIGTERM arrived: unwind so every cleanup runs."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def _threads(text: str) -> tuple[str, int]:
    name, _, count = text.partition("=")
    if name not in SERVICE_NAMES:
        raise argparse.ArgumentTypeError(f"--threads: unknown service {name!r}")
    if not (count.isascii() and count.isdigit()) or not 1 <= int(count) <= 256:
        raise argparse.ArgumentTypeError("--threads: SERVICE=N with N between 1 and 256")
    return name, int(count)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="shopsim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"shopsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def port_base(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--port-base",
            type=_port_base,
            default=8100,
            metavar="N",
            help="storefront's port; the other services follow (default 8100)",
        )

    def data(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            type=_db_url,
            default=None,
            metavar="URL",
            help="SQLAlchemy URL (default: one SQLite file per service in --run-dir)",
        )
        p.add_argument(
            "--run-dir",
            type=directory("--run-dir"),
            default=".shopsim",
            metavar="DIR",
            help="where SQLite files and logs go (default .shopsim)",
        )
        p.add_argument(
            "--seed",
            type=_seed,
            default=1,
            metavar="N",
            help="seed number for the store's data (default 1)",
        )

    up = sub.add_parser("up", help="start every service and wait; Ctrl-C stops them all")
    port_base(up)
    data(up)
    up.add_argument("--keep-data", action="store_true", help="do not reseed before starting")
    up.add_argument(
        "--threads",
        type=_threads,
        action="append",
        default=[],
        metavar="SVC=N",
        help="worker threads (capacity) of one service; repeatable",
    )
    up.add_argument(
        "--payment-latency-ms",
        type=bounded("--payment-latency-ms", 0, 60_000),
        default=None,
        metavar="MS",
        help="the fake gateway's base latency (default 250)",
    )

    seed = sub.add_parser("seed", help="reset the store's data from a seed number")
    data(seed)

    status = sub.add_parser("status", help="health of every service; non-zero when any is down")
    port_base(status)

    add_bench_parser(sub, port_base)
    add_fault_parser(sub, port_base)
    add_gameday_parser(sub, port_base)
    add_prometheus_config_parser(sub, port_base)
    add_export_parser(sub)
    add_accuracy_parser(sub, port_base)
    add_scenarios_parser(sub)
    add_report_parser(sub)
    add_matrix_parser(sub, port_base)
    add_capacity_parser(sub, port_base)
    add_compare_parser(sub)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    base = Settings.from_environment()
    changes: dict[str, Any] = {}
    for key in ("port_base", "run_dir", "seed"):
        if hasattr(args, key):
            changes[key] = str(args.run_dir) if key == "run_dir" else getattr(args, key)
    if getattr(args, "db", None):
        changes["db_url"] = args.db
    if getattr(args, "threads", None):
        changes["threads"] = dict(base.threads) | dict(args.threads)
    if getattr(args, "payment_latency_ms", None) is not None:
        changes["payment_latency_ms"] = args.payment_latency_ms
    return base.replace(**changes)


def cmd_seed(args: argparse.Namespace) -> int:
    """Reset and seed every service's database."""
    settings = _settings(args)
    rows = apply(settings, generate(settings.seed))
    where = settings.db_url or f"SQLite files in {settings.run_dir}/"
    print(
        f"seeded {where} from seed {settings.seed}: "
        f"{rows.get('storefront_customers', 0)} customers, "
        f"{rows.get('catalog_products', 0)} products, "
        f"{rows.get('registry_registries', 0)} registries"
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Start the storefront and block until Ctrl-C or SIGTERM."""
    settings = _settings(args)
    if not args.keep_data:
        cmd_seed(args)
    # Explicitly, because a shell starting `shopsim up &` leaves SIGINT ignored.
    previous = {
        sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with Stack(settings) as stack:
            print(f"\nshopsim {__version__} is up:\n")
            print(f"  {'service':<14} {'url':<24} metrics")
            for name in SERVICE_NAMES:
                hint = "   <- open in a browser" if name == "storefront" else ""
                print(f"  {name:<14} {settings.url(name):<24} {settings.metrics_url(name)}{hint}")
            print(
                f"\nlogs in {stack.log_dir}/   Ctrl-C stops all\n",
                flush=True,
            )
            while not (dead := stack.dead()):
                time.sleep(0.5)
            print(f"shopsim: {', '.join(dead)} exited; stopping the rest", file=sys.stderr)
            return 1
    except (KeyboardInterrupt, Terminated):
        print("\nshopsim: stopped every service", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_status(args: argparse.Namespace) -> int:
    """Print each service's health; exit 1 when any is unhealthy."""
    settings = _settings(args)
    results = check_health(settings)
    for h in results:
        print(f"  {h.service:<14} {h.url:<24} {'up' if h.ok else 'DOWN'}  {h.detail}")
    down = [h.service for h in results if not h.ok]
    if down:
        print(f"shopsim: unhealthy: {', '.join(down)}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    args = build_parser().parse_args(argv)
    try:
        port_range(os.environ)  # a bad SHOPSIM_FREE_PORTS is the user's mistake: say so first
    except ValueError as exc:
        print(f"shopsim: {exc}", file=sys.stderr)
        return 2
    commands = {
        "up": cmd_up,
        "seed": cmd_seed,
        "status": cmd_status,
        "bench": cmd_bench,
        "fault": cmd_fault,
        "gameday": cmd_gameday,
        "scenarios": cmd_scenarios,
        "report": cmd_report,
        "matrix": cmd_matrix,
        "capacity": cmd_capacity,
        "compare": cmd_compare,
        "prometheus-config": cmd_prometheus_config,
        "export": cmd_export,
        "accuracy": cmd_accuracy,
    }
    try:
        return commands[args.command](args)
    except StackError as exc:
        print(f"shopsim: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nshopsim: interrupted", file=sys.stderr)
        return 130
    except SQLAlchemyError as exc:
        print(f"shopsim: database error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
