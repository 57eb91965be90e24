"""Fault precision: what a configured fault does, measured on the bench store's payment.

- latency: extra time per request for 50, 200 and 800 ms (observed minus the fault-free
  median of the same request, alternating fault-free and faulted samples per delay);
- error: the share of requests answered by the fault for configured probabilities;
- onset: from the chaos API's answer to `add` until the first request that comes back slowed
  was sent; clear: from `reset`'s answer until the first fast one was sent (0 when the very
  next request already is); and how long those API calls themselves took.

The request is payment's cheap 404 (an unknown authorization), straight to the service, so the
figure is the fault engine's, not the network's. Loopback only, bounded counts.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from shopsim.faults.control import ChaosClient
from shopsim.settings import Settings

SERVICE = "payment"
DELAYS_MS = (50.0, 200.0, 800.0)
PROBABILITIES = (0.1, 0.5)
INJECTED = 599  # a status nothing else in payment answers


def _timed(client: httpx.Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    status = client.get(url).status_code
    return time.perf_counter() - started, status


def _fault(kind: str, probability: float = 1.0, **params: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "target": SERVICE,
        "params": params,
        "probability": probability,
        "duration_s": 600,
    }


def _first(client: httpx.Client, url: str, since: float, slow: bool, ms: float) -> float:
    """Seconds from `since` until a request that came back slowed (or fast) was sent."""
    deadline = time.perf_counter() + 10.0
    while time.perf_counter() < deadline:
        sent = time.perf_counter()
        elapsed, _ = _timed(client, url)
        if (elapsed >= ms / 1000 * 0.9) if slow else (elapsed < ms / 1000 * 0.5):
            return sent - since
    raise RuntimeError(f"the {ms:g} ms latency fault did not {'start' if slow else 'clear'}")


def run(settings: Settings, *, samples: int, error_requests: int) -> dict[str, Any]:
    """Every precision figure, as one JSON-ready dict."""
    url = f"{settings.url(SERVICE)}/authorizations/auth_probe"
    out: dict[str, Any] = {"latency": {}, "error_ratio": {}}
    with httpx.Client(timeout=30) as client, ChaosClient(settings) as chaos:
        chaos.reset()
        for _ in range(20):  # warm the connection and the route
            _timed(client, url)
        for ms in DELAYS_MS:
            base = [_timed(client, url)[0] for _ in range(samples)]
            asked = time.perf_counter()
            chaos.add(_fault("latency", ms=ms))
            added_at = time.perf_counter()
            onset = _first(client, url, added_at, True, ms)
            slowed = [_timed(client, url)[0] for _ in range(samples)]
            asked_reset = time.perf_counter()
            chaos.reset()
            reset_at = time.perf_counter()
            clear = _first(client, url, reset_at, False, ms)
            extra = [1000 * (s - statistics.median(base)) for s in slowed]
            out["latency"][f"{ms:g}ms"] = {
                "observed_extra_ms_mean": statistics.mean(extra),
                "observed_extra_ms_max": max(extra),
                "error_ms": statistics.mean(extra) - ms,
                "onset_ms": 1000 * onset,
                "clear_ms": 1000 * clear,
                "add_call_ms": 1000 * (added_at - asked),  # the chaos API call itself
                "reset_call_ms": 1000 * (reset_at - asked_reset),
                "samples": samples,
            }
        for p in PROBABILITIES:
            chaos.add(_fault("error", probability=p, status=INJECTED))
            hits = sum(_timed(client, url)[1] == INJECTED for _ in range(error_requests))
            chaos.reset()
            out["error_ratio"][f"p{p:g}"] = {
                "observed": hits / error_requests,
                "requests": error_requests,
            }
    lat = out["latency"].values()
    out["worst_latency_error_ms"] = max(abs(v["error_ms"]) for v in lat)
    out["worst_onset_ms"] = max(v["onset_ms"] for v in lat)
    out["worst_clear_ms"] = max(v["clear_ms"] for v in lat)
    return out
