"""`shopsim bench`: what the harness costs, against a bare endpoint, in one interleaved run.

`shopsim bench [--quick] [--json] [--run-dir DIR]` starts its own store and bare endpoint on free
loopback ports (shopsim.bench.suite). `shopsim bench --running [--port-base N] [--duration S]
[--concurrency C]` keeps the old closed-loop throughput of an already running store
(shopsim.bench.closedloop).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import httpx

from shopsim.argtypes import bounded
from shopsim.bench import closedloop
from shopsim.settings import Settings


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], port_base: Callable[..., None]
) -> None:
    """Register `shopsim bench` on the CLI."""
    bench = sub.add_parser("bench", help="measure what the harness costs (ratios to bare Flask)")
    bench.add_argument("--quick", action="store_true", help="short rounds (about 30 s)")
    bench.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    bench.add_argument(
        "--running",
        action="store_true",
        help="instead: closed-loop checkout throughput of the store already at --port-base",
    )
    bench.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="time `shopsim report` on this run directory (default: the bench's own short run)",
    )
    port_base(bench)
    bench.add_argument(
        "--duration",
        type=bounded("--duration", 1, 600),
        default=20.0,
        metavar="S",
        help="with --running: seconds to run (default 20)",
    )
    bench.add_argument(
        "--concurrency",
        type=bounded("--concurrency", 1, 200, int),
        default=16,
        metavar="C",
        help="with --running: buyer threads (default 16)",
    )


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the self-contained suite, or (--running) the closed loop against a running store."""
    if args.running:
        return _cmd_running(args)
    from shopsim.bench import suite

    if args.run_dir is not None and not (args.run_dir / "manifest.json").is_file():
        print(f"shopsim bench: {args.run_dir} is not a game day's run directory (no manifest)")
        return 2
    figures = suite.run(quick=args.quick, run_dir=args.run_dir)
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))
    else:
        for name, value in sorted(figures.items()):
            if isinstance(value, dict):
                shown = json.dumps(value, sort_keys=True)
            else:
                shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"{name:36} {shown}")
    return 0 if figures["checkout_failures"] == 0 else 1


def _cmd_running(args: argparse.Namespace) -> int:
    settings = Settings(port_base=args.port_base)
    base = settings.url("storefront")
    try:
        listing = httpx.get(f"{base}/api/products", params={"limit": 100}, timeout=5.0)
    except httpx.HTTPError as exc:
        print(
            f"shopsim: no storefront at {base} ({type(exc).__name__}); start one with "
            f"`shopsim up --port-base {args.port_base}`"
        )
        return 1
    skus = [p["sku"] for p in listing.json()["products"] if not p["doorbuster"]]
    print(f"bench: {args.concurrency} buyers for {args.duration:g}s against {base} ...", flush=True)
    result = closedloop.run(base, duration_s=args.duration, concurrency=args.concurrency, skus=skus)
    print(
        f"checkouts confirmed: {len(result.latencies)} in {result.seconds:.1f}s "
        f"= {result.rate:.1f}/s"
    )
    if result.latencies:
        print(
            f"checkout latency: p50 {result.percentile(0.5) * 1000:.0f} ms, "
            f"p95 {result.percentile(0.95) * 1000:.0f} ms, "
            f"max {max(result.latencies) * 1000:.0f} ms"
        )
    if result.failures:
        print("failures: " + ", ".join(f"{k} x{v}" for k, v in result.failures.most_common()))
    return 0 if result.latencies and not result.failures else 1
