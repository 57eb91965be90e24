"""crash: the target's processes are killed with SIGKILL, then restarted by their supervisor.

The gunicorn master and its worker die at once, with no cleanup: requests in flight are cut off
and callers see connection errors in their own dependency metrics. The supervisor that started
the store (`shopsim up` or a game day's Stack) starts the service again on the same port with
the same data after `restart_after_s`, or when the fault's duration is up if that comes first
or no delay is given. The killing is the service's own (`Target.crash`, shopsim.crashes): it
refuses (409) when no supervisor would restart it, and then nothing is killed.
"""

from __future__ import annotations

import time
from typing import Annotated

from pydantic import Field

from shopsim.faults.base import FaultType, Handle
from shopsim.faults.target import Target
from shopsim.validation import Model


class CrashParams(Model):
    # None: the service stays down for the whole fault and comes back when it ends.
    restart_after_s: Annotated[float | None, Field(ge=0, le=3600, allow_inf_nan=False)] = None


class Crash(FaultType[CrashParams]):
    name = "crash"
    summary = "SIGKILL the target's processes; its supervisor restarts it after restart_after_s"
    Params = CrashParams
    directions = ("inbound",)
    ambient = True

    def start(self, fault: Handle, target: Target) -> None:
        """Draw once; if it fires, the service kills itself moments after answering."""
        if fault.draw() is None:
            return  # this time the process survives: nothing happens for the fault's duration
        p = self.params
        left = max(0.0, fault.expires_at - time.monotonic())
        after = left if p.restart_after_s is None else min(p.restart_after_s, left)
        target.crash(after)

    def stop(self) -> None:
        """Nothing to stop: a crash is over once it has happened."""
