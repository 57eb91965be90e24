"""`shopsim prometheus-config`: the scrape configuration (1 s scrapes of every service's side
port and of the load generator's exporter) and the rules, for a store `shopsim up` runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from shopsim.argtypes import bounded, directory
from shopsim.gameday.fields import MAX_TIME_SCALE
from shopsim.gameday.sampler import load_sources
from shopsim.prom.rules import default_slos
from shopsim.prom.scrape import RULES_FILE, write_config
from shopsim.settings import Settings
from shopsim.verdict.slo import factor_for

DEFAULT_LOAD_PORT = 9646  # loadtests/plan.py's default metrics_port


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim prometheus-config` on the CLI."""
    p = sub.add_parser(
        "prometheus-config",
        help="write prometheus.yml (1 s scrapes of the store and the load) and shopsim's rules",
    )
    p.add_argument(
        "--out",
        type=directory("--out"),
        default=Path("prometheus"),
        metavar="DIR",
        help="where to write them (default ./prometheus)",
    )
    p.add_argument(
        "--load-metrics-port",
        type=bounded("--load-metrics-port", 1, 65535, int),
        default=DEFAULT_LOAD_PORT,
        metavar="N",
        help=f"the load generator's metrics port (default {DEFAULT_LOAD_PORT})",
    )
    p.add_argument(
        "--load-processes",
        type=bounded("--load-processes", 1, 64, int),
        default=1,
        metavar="N",
        help="Locust worker processes: their exporters follow the port (default 1)",
    )
    scale = p.add_mutually_exclusive_group()
    scale.add_argument(
        "--time-scale",
        type=bounded("--time-scale", 0.001, MAX_TIME_SCALE),
        default=1.0,
        metavar="X",
        help="rules for game days run at this time scale (windows / 60X; default 1)",
    )
    scale.add_argument(
        "--production",
        action="store_true",
        help="rules at production scale (hours and days) instead of a rehearsal's",
    )
    port_base(p)


def cmd_prometheus_config(args: argparse.Namespace) -> int:
    """Write the files; print how to run Prometheus with them."""
    settings = Settings(port_base=args.port_base)
    factor = 1.0 if args.production else factor_for(args.time_scale)
    loads = load_sources(int(args.load_metrics_port), int(args.load_processes))
    config = write_config(args.out, settings, loads, default_slos(), factor)
    print(f"wrote {config} and {config.parent / RULES_FILE}")
    print(
        f"run: prometheus --config.file={config} --storage.tsdb.path={config.parent / 'data'} "
        "--web.listen-address=127.0.0.1:9090"
    )
    return 0
