"""memory_leak: the target's process grows its memory while active, up to a hard cap.

A background thread allocates and keeps bytearrays (zero-filled, so the pages are really
touched) at `mb_per_s`, in rounds of `round_s` that each fire with the envelope's probability,
until it holds `max_mb`. stop() lets go of every buffer. The bytes held are `held_bytes` and,
in the target's registry, the gauge shopsim_fault_memory_held_bytes (the sum over its leaks).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Annotated, ClassVar

from prometheus_client import Gauge
from pydantic import Field

from shopsim.faults.base import FaultType, Handle
from shopsim.faults.target import Target
from shopsim.validation import Model

MIB = 1024 * 1024
GAUGE = "shopsim_fault_memory_held_bytes"


class MemoryLeakParams(Model):
    mb_per_s: Annotated[float, Field(ge=0.1, le=100, allow_inf_nan=False)] = 5.0
    max_mb: Annotated[float, Field(ge=1, le=2048, allow_inf_nan=False)] = 256.0


class MemoryLeak(FaultType[MemoryLeakParams]):
    name = "memory_leak"
    summary = "holds mb_per_s more MiB every second, up to max_mb; freed when it ends"
    Params = MemoryLeakParams
    directions = ("inbound",)
    ambient = True
    round_s: ClassVar[float] = 0.1

    def __init__(self, params: MemoryLeakParams) -> None:
        super().__init__(params)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._chunks: list[bytearray] = []
        self._gauge: Gauge | None = None
        self.held_bytes = 0
        self.rounds = 0

    def takes(self) -> Mapping[str, float]:
        """Its share of the service's budget."""
        return {"memory_mb": self.params.max_mb}

    def start(self, fault: Handle, target: Target) -> None:
        """Start leaking."""
        self._gauge = target.gauge(GAUGE, "Bytes held by memory_leak faults in this process.")
        self._thread = threading.Thread(
            target=self._leak,
            args=(fault,),
            name=f"fault-memory_leak-{target.service}",
            daemon=True,
        )
        self._thread.start()

    def _leak(self, fault: Handle) -> None:
        p = self.params
        cap, per_round = int(p.max_mb * MIB), int(p.mb_per_s * MIB * self.round_s)
        due = time.monotonic()
        while not self._stopping.is_set() and time.monotonic() < fault.expires_at:
            self.rounds += 1
            if fault.draw() is not None and self.held_bytes < cap:
                chunk = bytearray(min(per_round, cap - self.held_bytes))
                self._chunks.append(chunk)
                self._held(len(chunk))
            due += self.round_s  # paced by the clock, so the rate holds however long a round is
            self._stopping.wait(max(0.0, due - time.monotonic()))

    def _held(self, change: int) -> None:
        if self._gauge is not None:  # the gauge first: it never shows less than is held
            self._gauge.inc(change)
        self.held_bytes += change

    def stop(self) -> None:
        """Stop leaking and free everything held."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._chunks.clear()
        self._held(-self.held_bytes)
