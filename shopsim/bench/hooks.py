"""Hook overhead: a catalog product read with the metrics and fault hooks on, over the same read
with them off (`Settings.hooks`), wrk against each in turn so the machine's drift cancels.

The hooked catalog is the bench store's own; the bare one is a second catalog process started
here on the same database with `hooks=False`, the same gunicorn settings and the same threads.
No fault is active on either, so the ratio is what the switch points and RED metrics cost when
they have nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopsim.bench import bare
from shopsim.runner import Stack
from shopsim.settings import Settings

SERVICE = "catalog"


@dataclass
class HookRounds:
    on_rps: list[float] = field(default_factory=list)
    off_rps: list[float] = field(default_factory=list)
    on_cpu_ms: list[float] = field(default_factory=list)
    off_cpu_ms: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """The ratio of mean throughputs, and each side's throughput and CPU per request."""
        on, off = bare.mean(self.on_rps), bare.mean(self.off_rps)
        return {
            "hook_overhead_ratio": on / off if on is not None and off else None,
            "hooks_on_requests_per_s": on,
            "hooks_off_requests_per_s": off,
            "hooks_on_cpu_per_request_ms": bare.mean(self.on_cpu_ms),
            "hooks_off_cpu_per_request_ms": bare.mean(self.off_cpu_ms),
        }


def unhooked(settings: Settings, port: int) -> Stack:
    """A Stack of one catalog with the hooks off whose main port is `port` (its side port is
    `port` + the operator offset), on `settings`' database files."""
    base = port - settings.port(SERVICE) + settings.port_base
    return Stack(settings.replace(port_base=base, hooks=False), services=(SERVICE,))


def product_url(settings: Settings, sku: str) -> str:
    """The catalog read measured: one product, through the catalog's cache."""
    return f"{settings.url(SERVICE)}/products/{sku}"


def run(
    on: Stack, off: Stack, sku: str, *, rounds: int, seconds: float, connections: int = 16
) -> HookRounds:
    """`rounds` of wrk on the hooked catalog then the unhooked one, each `seconds` long."""
    out = HookRounds()
    sides = (
        (on, out.on_rps, out.on_cpu_ms),
        (off, out.off_rps, out.off_cpu_ms),
    )
    for i in range(rounds):
        # alternate which side goes first, so neither always runs on a warmer machine
        for stack, rps, cpu in sides if i % 2 == 0 else sides[::-1]:
            w = bare.run_wrk(
                product_url(stack.settings, sku),
                seconds=seconds,
                connections=connections,
                server_pids=[stack.procs[SERVICE].pid],
            )
            rps.append(w.requests_per_s)
            cpu.append(w.cpu_per_request_ms)
    return out
