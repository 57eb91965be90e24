"""Closed-loop checkout throughput of a running storefront (`shopsim bench --running`).

Closed loop on purpose: C buyer threads, each a different seeded customer, each adding one
regular product to its cart and checking out through the storefront's JSON API, as fast as the
store answers. Prints checkouts per second and checkout latency percentiles. Traffic goes only to
the loopback storefront given by --port-base, and stops after --duration seconds.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx


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
