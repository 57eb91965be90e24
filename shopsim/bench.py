"""`shopsim bench`: checkout throughput of a running storefront at zero injected faults.

Closed loop on purpose: C buyer threads, each a different seeded customer, each adding one
regular product to its cart and checking out through the storefront's JSON API, as fast as the
store answers. Prints checkouts per second and checkout latency percentiles. Traffic goes only to
the loopback storefront given by --port-base, and stops after --duration seconds.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from shopsim.argtypes import bounded
from shopsim.settings import Settings


@dataclass
class BenchResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        """Confirmed checkouts per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Checkout latency at quantile q, in seconds."""
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]


def run(base_url: str, *, duration_s: float, concurrency: int, skus: list[str]) -> BenchResult:
    """Drive checkouts for `duration_s` seconds with `concurrency` buyers."""
    result = BenchResult(seconds=duration_s)
    lock = threading.Lock()
    stop_at = time.monotonic() + duration_s

    def buyer(n: int) -> None:
        customer = n + 1
        with httpx.Client(base_url=base_url, timeout=30.0) as client:
            i = 0
            while time.monotonic() < stop_at:
                sku = skus[(n * 7 + i) % len(skus)]
                i += 1
                added = client.post(
                    f"/api/customers/{customer}/cart/items", json={"sku": sku, "quantity": 1}
                )
                if added.status_code != 200:
                    with lock:
                        result.failures[f"cart {added.status_code} {_code(added)}"] += 1
                    continue
                started = time.perf_counter()
                done = client.post(
                    f"/api/customers/{customer}/checkout",
                    json={"idempotency_key": str(uuid.uuid4()), "card_token": "tok_visa"},
                )
                elapsed = time.perf_counter() - started
                with lock:
                    if done.status_code == 201:
                        result.latencies.append(elapsed)
                    else:
                        result.failures[f"checkout {done.status_code} {_code(done)}"] += 1

    threads = [threading.Thread(target=buyer, args=(n,), daemon=True) for n in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - started
    return result


def _code(response: httpx.Response) -> str:
    """The error code of a house JSON error, or "-" for anything else."""
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "-"


def add_parser(sub: argparse._SubParsersAction, port_base: Callable[..., None]) -> None:
    """Register `shopsim bench` on the CLI."""
    bench = sub.add_parser("bench", help="measure checkout throughput of a running storefront")
    port_base(bench)
    bench.add_argument(
        "--duration",
        type=bounded("--duration", 1, 600),
        default=20.0,
        metavar="S",
        help="seconds to run (default 20)",
    )
    bench.add_argument(
        "--concurrency",
        type=bounded("--concurrency", 1, 200, int),
        default=16,
        metavar="C",
        help="buyer threads (default 16)",
    )


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark against the storefront at --port-base and print the figures."""
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
    result = run(base, duration_s=args.duration, concurrency=args.concurrency, skus=skus)
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
