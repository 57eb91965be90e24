"""How the culprit reads each kind of signal (signals.py computes them): its unit, the smallest
change worth noticing, its weight, the words a report uses for it and the query a human would
run to see it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignalKind:
    """How to read one kind of signal: its unit, the smallest change worth noticing (`floor`,
    or `relative` x its usual level if larger), a weight, and the words for it."""

    name: str
    unit: str
    floor: float
    relative: float
    weight: float
    words: str
    metric: str  # what a human would query to see it


KINDS = {
    k.name: k
    for k in (
        SignalKind(
            "self_time",
            "s",
            0.005,
            0.25,
            1.0,
            "slower in its own code",
            "shopsim_http_request_duration_seconds - shopsim_dependency_call_duration_seconds",
        ),
        SignalKind(
            "queue_time",
            "s",
            0.01,
            0.25,
            1.0,
            "callers wait for it",
            "shopsim_dependency_request_duration_seconds - shopsim_http_request_duration_seconds",
        ),
        SignalKind(
            "own_errors",
            "share",
            0.02,
            0.0,
            1.0,
            "errors start here",
            'shopsim_http_server_errors_total{cause!="dependency"}',
        ),
        SignalKind(
            "edge_failures",
            "share",
            0.02,
            0.0,
            1.0,
            "callers' calls to it fail",
            "shopsim_dependency_requests_total"
            '{outcome=~"timeout|connect_error|server_error|breaker_open"}',
        ),
        SignalKind(
            "edge_refusals",
            "share",
            0.05,
            0.0,
            0.5,
            "it refuses callers' requests",
            'shopsim_dependency_requests_total{outcome="client_error"}',
        ),
        SignalKind(
            "busy_self",
            "share",
            0.10,
            0.0,
            1.0,
            "its worker threads are all busy",
            "shopsim_worker_threads_busy / shopsim_worker_threads",
        ),
        SignalKind(
            "cpu_cores", "cores", 0.15, 0.5, 1.0, "it burns CPU", "rate(process_cpu_seconds_total)"
        ),
        SignalKind(
            "memory_bytes",
            "bytes",
            64e6,
            0.0,
            1.0,
            "its memory grows",
            "process_resident_memory_bytes",
        ),
        SignalKind("silent", "rounds", 0.5, 0.0, 1.0, "it stopped answering", "up"),
        SignalKind(
            "business",
            "ratio",
            1.0,
            0.5,
            1.0,
            "its business numbers are out of proportion",
            "see the business alerts",
        ),
    )
}
