"""Configuration: frozen dataclasses built once, passed to every factory.

A `Settings` travels to a service process as JSON in one environment variable, so whatever is
configurable here is configurable for every service in the same way.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

#: Services in port order: storefront takes the port base, the rest follow.
SERVICE_NAMES: tuple[str, ...] = (
    "storefront",
    "catalog",
    "cart",
    "inventory",
    "payment",
    "checkout",
    "registry",
    "notifications",
)

#: Who calls whom. The client side of every edge gets its own policy and metrics.
DEPENDENCIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "storefront": ("catalog", "cart", "registry", "checkout"),
        "catalog": (),
        "cart": ("catalog",),
        "inventory": (),
        "payment": (),
        "checkout": ("cart", "catalog", "inventory", "payment", "notifications", "registry"),
        "registry": ("notifications",),
        "notifications": (),
    }
)

#: Each service also serves its operator paths (/metrics, /healthz, /_chaos) on a side port,
#: port + OPERATOR_PORT_OFFSET, from threads of its own: scrapes and fault control still answer
#: when every worker thread is busy, which is exactly when they matter.
OPERATOR_PORT_OFFSET = 100
#: Ports a store uses above its base: services, then their operator side ports.
PORT_SPAN = OPERATOR_PORT_OFFSET + len(SERVICE_NAMES)

SETTINGS_ENV = "SHOPSIM_SETTINGS"
#: The chaos API's token, for the services `shopsim up` / `gameday` start and for the client.
CHAOS_TOKEN_ENV = "SHOPSIM_CHAOS_TOKEN"
SERVICE_ENV = "SHOPSIM_SERVICE"


@dataclass(frozen=True, kw_only=True)
class DependencyPolicy:
    """How one service calls one dependency: timeouts, retries, budget and breaker."""

    timeout_s: float = 2.0
    connect_timeout_s: float = 0.5
    retries: int = 2
    backoff: str = "exponential"  # "exponential" (full jitter) or "none"
    backoff_base_s: float = 0.05
    backoff_max_s: float = 1.0
    retry_budget_ratio: float = 0.1  # retries allowed as a share of recent requests
    retry_budget_min_per_s: float = 5.0  # floor so a quiet service can still retry
    breaker_enabled: bool = True
    breaker_failure_ratio: float = 0.5
    breaker_min_requests: int = 20
    breaker_window_s: float = 10.0
    breaker_open_s: float = 5.0
    max_connections: int = 100


#: Defaults per edge where the generic policy would be wrong: the storefront must wait for a
#: whole checkout saga, and checkout must wait for the payment gateway's latency.
EDGE_DEFAULTS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "storefront->checkout": {"timeout_s": 15.0, "retries": 1},
        "checkout->payment": {"timeout_s": 3.0},
    }
)


def default_dependency_policies() -> dict[str, DependencyPolicy]:
    """Every edge of the call graph with its production default policy."""
    return {
        edge: DependencyPolicy(**EDGE_DEFAULTS.get(edge, {}))
        for edge in (f"{s}->{d}" for s, deps in DEPENDENCIES.items() for d in deps)
    }


def default_threads() -> dict[str, int]:
    """Worker threads per service: the service's capacity."""
    return {name: 16 for name in SERVICE_NAMES} | {"storefront": 32, "checkout": 24}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a service needs to start. Build with `Settings(...)` or `Settings.from_json`."""

    host: str = "127.0.0.1"
    port_base: int = 8100
    run_dir: str = ".shopsim"
    db_url: str | None = None  # None: one SQLite file per service in run_dir
    seed: int = 1
    threads: Mapping[str, int] = field(default_factory=default_threads)
    # admission control per service: absent 4x its threads, 0 off
    admission_max_in_flight: Mapping[str, int] = field(default_factory=dict)
    admission_retry_after_s: int = 1
    dependencies: Mapping[str, DependencyPolicy] = field(
        default_factory=default_dependency_policies
    )
    max_body_bytes: int = 64 * 1024
    payment_latency_ms: float = 250.0
    payment_jitter_ms: float = 100.0
    # True: every call to payment waits out the card network, replays and 409s included, as
    # when the keys are checked by the remote gateway rather than by payment itself
    payment_round_trip_every_call: bool = False
    reservation_ttl_s: float = 600.0
    catalog_cache_ttl_s: float = 5.0
    catalog_cache_size: int = 512
    outbox_poll_s: float = 0.2
    chaos_token: str | None = None  # required for the chaos API off loopback
    background: bool = True  # run sweepers and senders in threads (tests may drive them by hand)
    # False: serve without the per-request hooks, no RED request metrics and no fault switch
    # points (inbound, outbound, db_slow); faults may still be added but do nothing. Only for
    # `shopsim bench`'s hook-overhead baseline: a store without them cannot be observed or broken.
    hooks: bool = True

    def port(self, service: str) -> int:
        """The port a service listens on."""
        return self.port_base + SERVICE_NAMES.index(service)

    def operator_port(self, service: str) -> int:
        """The side port of a service's operator paths, answering whatever its load."""
        return self.port(service) + OPERATOR_PORT_OFFSET

    def operator_url(self, service: str) -> str:
        """Base URL of a service's operator side port (/metrics, /healthz, /_chaos)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.operator_port(service)}"

    def metrics_url(self, service: str) -> str:
        """Where to scrape a service."""
        return f"{self.operator_url(service)}/metrics"

    def url(self, service: str) -> str:
        """The base URL other services use to reach `service`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port(service)}"

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of one service's database."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{Path(self.run_dir).resolve() / f'{service}.db'}"

    def policy(self, service: str, dependency: str) -> DependencyPolicy:
        """The policy `service` applies when calling `dependency`."""
        return self.dependencies.get(f"{service}->{dependency}", DependencyPolicy())

    def max_in_flight(self, service: str) -> int:
        """The admission-control cap for a service: 4x its threads unless set (0: no cap)."""
        limit = self.admission_max_in_flight.get(service)
        return 4 * self.threads.get(service, 16) if limit is None else limit

    @classmethod
    def from_environment(cls, **values: Any) -> Settings:
        """Settings with the chaos token taken from SHOPSIM_CHAOS_TOKEN when it is set."""
        token = os.environ.get(CHAOS_TOKEN_ENV) or None
        return cls(**({"chaos_token": token} if token else {}) | values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        """Serialise for a child process's environment."""
        data = dataclasses.asdict(self)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """Rebuild settings serialised by `to_json`."""
        data = json.loads(text)
        deps = {k: DependencyPolicy(**v) for k, v in data.pop("dependencies").items()}
        return cls(dependencies=deps, **data)
