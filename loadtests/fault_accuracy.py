"""How exact is the latency fault? Configured vs observed delay, and onset and clear delays.

    shopsim up --port-base 8100          # in one terminal
    python loadtests/fault_accuracy.py --port-base 8100 --ms 800

Against a running store (loopback only): times a cheap payment route without a fault, with a
`latency` fault on payment, and again after `reset`; prints the added delay (observed minus
baseline) against the configured one, how long after `add` the first slowed request started,
how long after `reset` the first fast one did, and what checkout's own dependency histogram
saw for payment during a few real checkouts. Plain httpx: this script does not import Locust.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import httpx

from shopsim.faults.control import ChaosClient
from shopsim.metrics.catalogue.common import DEPENDENCY_DURATION
from shopsim.settings import Settings


def _time(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    client.get(url)
    return time.perf_counter() - started


def _dependency_totals(settings: Settings) -> tuple[float, float]:
    """Checkout's (sum, count) of payment call durations."""
    text = httpx.get(settings.metrics_url("checkout"), timeout=5).text
    values = {}
    for line in text.splitlines():
        for kind in ("sum", "count"):
            prefix = DEPENDENCY_DURATION.sample(kind) + "{"
            if line.startswith(prefix) and 'dependency="payment"' in line:
                values[kind] = float(line.rsplit(" ", 1)[1])
    return values.get("sum", 0.0), values.get("count", 0.0)


def _checkouts(settings: Settings, n: int) -> tuple[float, float]:
    before = _dependency_totals(settings)
    with httpx.Client(base_url=settings.url("storefront"), timeout=30) as api:
        for _ in range(n):
            api.post("/api/customers/9/cart/items", json={"sku": "SKU-0010", "quantity": 1})
            body = {"idempotency_key": f"acc-{uuid.uuid4()}", "card_token": "tok_visa"}
            api.post("/api/customers/9/checkout", json=body)
    after = _dependency_totals(settings)
    calls = after[1] - before[1]
    return (after[0] - before[0]) / calls if calls else 0.0, calls


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-base", type=int, default=8100)
    parser.add_argument("--ms", type=float, default=800.0, help="the fault's configured delay")
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    settings = Settings(port_base=args.port_base)
    probe = f"{settings.url('payment')}/authorizations/auth_probe"  # a cheap 404
    with httpx.Client(timeout=30) as client, ChaosClient(settings) as chaos:
        chaos.reset()
        base = [_time(client, probe) for _ in range(args.samples)]
        base_dep, _ = _checkouts(settings, 3)
        spec = {
            "type": "latency",
            "target": "payment",
            "params": {"ms": args.ms},
            "duration_s": 600,
        }
        added_at = time.perf_counter()
        chaos.add(spec)
        onset = None
        while onset is None:  # the first request that comes back slowed
            sent = time.perf_counter()
            if _time(client, probe) >= args.ms / 1000 * 0.9:
                onset = sent - added_at
        slowed = [_time(client, probe) for _ in range(args.samples)]
        slow_dep, calls = _checkouts(settings, 3)
        reset_at = time.perf_counter()
        chaos.reset()
        cleared = None
        while cleared is None:
            sent = time.perf_counter()
            if _time(client, probe) < args.ms / 1000 * 0.5:
                cleared = sent - reset_at
    added = [s - statistics.median(base) for s in slowed]
    q = statistics.quantiles(added, n=20)
    print(f"configured delay     {args.ms:8.1f} ms")
    print(
        f"observed added delay {statistics.mean(added) * 1000:8.1f} ms mean, "
        f"p50 {statistics.median(added) * 1000:.1f}, p95 {q[18] * 1000:.1f} "
        f"(baseline p50 {statistics.median(base) * 1000:.1f} ms, n={args.samples})"
    )
    print(
        f"error of the mean    {(statistics.mean(added) * 1000 - args.ms):+8.1f} ms "
        f"({(statistics.mean(added) * 1000 / args.ms - 1) * 100:+.2f}%)"
    )
    print(f"onset after add      {onset * 1000:8.1f} ms (first slowed request sent)")
    print(f"clear after reset    {cleared * 1000:8.1f} ms (first fast request sent)")
    print(
        f"checkout's view of payment: {base_dep * 1000:.0f} ms per call before, "
        f"{slow_dep * 1000:.0f} ms during ({calls:.0f} calls)"
    )


if __name__ == "__main__":
    main()
