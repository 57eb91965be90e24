"""db_lock: another client (a batch job, a migration) holds locks in the target's database.

A thread repeats cycles of hold_s + pause_s; a cycle fires with the envelope's probability and
then holds a lock for hold_s, through its target's `hold_lock` (shopsim.db.Database.hold_lock).
SQLite: the write lock (``BEGIN IMMEDIATE``), so writers wait and readers do not. PostgreSQL:
``SELECT ... FOR UPDATE`` on the service's hot rows (inventory's doorbusters, else the first
table's first rows) or, for scope "table", ``LOCK TABLE ... IN EXCLUSIVE MODE``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, ClassVar

from pydantic import Field

from shopsim.faults.base import FaultType, Handle
from shopsim.faults.target import LockScope, Target
from shopsim.validation import Model

log = logging.getLogger("shopsim")


class DbLockParams(Model):
    hold_s: Annotated[float, Field(ge=0.05, le=60, allow_inf_nan=False)] = 1.0
    pause_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 1.0
    scope: LockScope = "hot_rows"


class DbLock(FaultType[DbLockParams]):
    name = "db_lock"
    summary = "holds a lock on the target's hot rows (or table) for hold_s, every pause_s"
    Params = DbLockParams
    directions = ("inbound",)
    ambient = True
    time_scale: ClassVar[float] = 1.0  # tests shrink it to run many cycles quickly

    def __init__(self, params: DbLockParams) -> None:
        super().__init__(params)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.holding = threading.Event()  # set while the lock is held
        self.rounds = 0

    def takes(self) -> dict[str, float]:
        """One lock holder of the service's budget."""
        return {"held_locks": 1.0}

    def start(self, fault: Handle, target: Target) -> None:
        """Start the lock holder."""
        name = f"fault-db_lock-{target.service}"
        self._thread = threading.Thread(
            target=self._run, args=(fault, target), name=name, daemon=True
        )
        self._thread.start()

    def _wait(self, seconds: float, deadline: float) -> None:  # stop() or deadline cut it short
        self._stopping.wait(max(0.0, min(seconds * self.time_scale, deadline - time.monotonic())))

    def _run(self, fault: Handle, target: Target) -> None:
        p = self.params
        while not self._stopping.is_set() and time.monotonic() < fault.expires_at:
            self.rounds += 1
            if fault.draw() is not None:
                try:
                    with target.hold_lock(p.scope):
                        self.holding.set()
                        self._wait(p.hold_s, fault.expires_at)
                except Exception:  # a failed cycle must not end the fault; the next one retries
                    log.exception("%s: db_lock could not take its lock", target.service)
                finally:
                    self.holding.clear()  # the (empty) transaction has ended
            else:
                self._wait(p.hold_s, fault.expires_at)
            self._wait(p.pause_s, fault.expires_at)

    def stop(self) -> None:
        """Release the lock (its transaction ends) and join the holder."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            # bounded: expiry may run in a request holding the write lock the holder queues for
            self._thread.join(timeout=1.0)  # then, once it gets the lock, it sees _stopping
