"""Which slice of the load this process makes, and when the run's schedule started.

One process (standalone) makes all of it. With N worker processes (``--processes N``, or
``--master`` and ``--worker`` on several machines) the master numbers the connected workers
0..N-1 when the test starts and tells each one its index, the count and the wall-clock moment
the shape started. Worker k then takes open-model arrivals k, k+N, k+2N, ... of the one
schedule (so N processes together make exactly the plan's arrivals, interleaved), and numbers
its closed-model users k, k+N, ... (so no two users anywhere share a customer or a seed).

The message goes out in the master's test_start, before the spawn messages, and Locust
delivers a worker's messages in order, so a worker knows its share before its first user.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, Runner, WorkerRunner

log = logging.getLogger("shopsim.loadtests")

MESSAGE = "shopsim_share"
ATTRIBUTE = "shopsim_share"


@dataclass
class Share:
    """This process's slice: arrivals and user numbers index, index + count, ..."""

    index: int = 0
    count: int = 1
    started_wall: float = field(default_factory=time.time)
    known: bool = True  # False on a worker until the master has said
    _numbers: Any = field(default_factory=itertools.count, repr=False)

    def started_perf(self) -> float:
        """The schedule's start on this process's perf_counter clock."""
        return time.perf_counter() - (time.time() - self.started_wall)

    def next_user_number(self) -> int:
        """A number for a new user, unique across every process of the run."""
        return self.index + self.count * next(self._numbers)


def share_of(environment: Environment) -> Share:
    """This process's share (all of the load until told otherwise)."""
    found = getattr(environment, ATTRIBUTE, None)
    return found if isinstance(found, Share) else Share()


def _set(environment: Environment, share: Share) -> None:
    setattr(environment, ATTRIBUTE, share)


def _announce(environment: Environment, **_: Any) -> None:
    """At test start: the master tells each worker its share; a standalone process has it all."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        workers = runner.clients.ready + runner.clients.spawning + runner.clients.running
        workers.sort(key=lambda w: runner.get_worker_index(w.id))
        started = time.time()
        for index, worker in enumerate(workers):
            data = {"index": index, "count": len(workers), "started_wall": started}
            runner.send_message(MESSAGE, data, client_id=worker.id)
        _set(environment, Share(0, max(len(workers), 1), started))
    elif isinstance(runner, LocalRunner):
        _set(environment, Share())


def _receive(environment: Environment, msg: Any, **_: Any) -> None:
    data = msg.data
    _set(environment, Share(int(data["index"]), int(data["count"]), float(data["started_wall"])))
    log.info("this worker makes share %d of %d of the load", data["index"], data["count"])


def install(environment: Environment, runner: Runner | None) -> None:
    """Hook the share messages into this process's runner (call from events.init)."""
    if isinstance(runner, WorkerRunner):
        _set(environment, Share(known=False))
        runner.register_message(MESSAGE, _receive)
    else:
        _set(environment, Share())
        environment.events.test_start.add_listener(_announce)
