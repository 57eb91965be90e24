"""cpu_burn: a CPU-hungry neighbour inside the target's process.

Burner threads spin a pure-Python loop, which holds the GIL: the service's own threads queue for
it, so request latency rises the way it does beside a noisy process. Time is cut in rounds of
`round_s`; each burner draws every round with the envelope's probability and, when the round
fires, spins for `percent` of it, then sleeps the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import Field

from shopsim.faults.base import FaultType, Handle
from shopsim.faults.target import Target
from shopsim.validation import Model


class CpuBurnParams(Model):
    percent: Annotated[float, Field(ge=1, le=100, allow_inf_nan=False)] = 50.0
    threads: Annotated[int, Field(ge=1, le=4)] = 1


class CpuBurn(FaultType[CpuBurnParams]):
    name = "cpu_burn"
    summary = "threads burner threads spin percent of each round in the target, holding the GIL"
    Params = CpuBurnParams
    directions = ("inbound",)
    ambient = True
    round_s: ClassVar[float] = 0.1  # short enough that stop() is prompt

    def __init__(self, params: CpuBurnParams) -> None:
        super().__init__(params)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._rounds: list[int] = []

    @property
    def rounds(self) -> int:
        """Rounds drawn so far by every burner (fired or not)."""
        return sum(self._rounds)

    def takes(self) -> Mapping[str, float]:
        """Its share of the service's budget."""
        return {"burner_threads": float(self.params.threads)}

    def start(self, fault: Handle, target: Target) -> None:
        """Start the burner threads."""
        p = self.params
        self._rounds = [0] * p.threads
        for i in range(p.threads):
            thread = threading.Thread(
                target=self._burn,
                args=(fault, i),
                name=f"fault-cpu_burn-{target.service}-{i}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def _burn(self, fault: Handle, index: int) -> None:
        p = self.params
        while not self._stopping.is_set() and time.monotonic() < fault.expires_at:
            started = time.perf_counter()
            self._rounds[index] += 1
            if fault.draw() is not None:
                until = started + self.round_s * p.percent / 100
                while time.perf_counter() < until:
                    pass  # the point: bytecode that never lets go of the GIL voluntarily
            self._stopping.wait(max(0.0, started + self.round_s - time.perf_counter()))

    def stop(self) -> None:
        """Stop and join every burner."""
        self._stopping.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
        self._threads.clear()
