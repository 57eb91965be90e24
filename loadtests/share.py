"""Which slice of the load this process makes, and when the run's schedule started.

One process (standalone) makes all of it. With N worker processes (``--processes N``, or
``--master`` and ``--worker`` on several machines) the master fixes the shares when the test
starts: it numbers the workers connected then 0..N-1 and notes the wall-clock moment the shape
started. Worker k takes open-model arrivals k, k+N, k+2N, ... of the one schedule (so N
processes together make exactly the plan's arrivals, interleaved) and numbers its closed-model
users k, k+N, ... (so no two users anywhere share a customer or a seed).

A worker asks for its share and runs nothing before the answer (`wait_for_share`). Being told
at test start would not do: Locust connects a worker to its master before the worker's init
event fires, so the master may start the test, and its message and the worker's first users
may arrive, before this module is installed on the worker. A request is only sent once it is
(install() runs last in init), and the master always has the answer by then: it fixes the
shares in test_start, before it sends any worker its users.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gevent.event import Event
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

log = logging.getLogger("shopsim.loadtests")

REQUEST = "shopsim_share_request"
REPLY = "shopsim_share"
ATTRIBUTE = "shopsim_share"
POLL_S = 0.25  # how often a waiting user looks whether the run is stopping
ASK_AGAIN_S = 5.0  # should a message be lost (a worker's connection was reset)


@dataclass
class Share:
    """This process's slice: arrivals and user numbers index, index + count, ..."""

    index: int = 0
    count: int = 1
    started_wall: float = field(default_factory=time.time)
    _numbers: Any = field(default_factory=itertools.count, repr=False)

    def started_perf(self) -> float:
        """The schedule's start on this process's perf_counter clock."""
        return time.perf_counter() - (time.time() - self.started_wall)

    def next_user_number(self) -> int:
        """A number for a new user, unique across every process of the run."""
        return self.index + self.count * next(self._numbers)


@dataclass
class Shares:
    """One process's state: its own share once known; on the master, every worker's."""

    installed: Event = field(default_factory=Event)
    known: Event = field(default_factory=Event)
    share: Share | None = None  # None once known: this worker has no share
    ticket: int = 0  # a worker's current request; answers to an older one are ignored
    table: dict[str, Share] = field(default_factory=dict)  # master: worker id -> share

    def settle(self, share: Share | None) -> None:
        """This process's share is now known (None: it has none)."""
        self.share = share
        self.known.set()

    def forget(self) -> None:
        """A new test starts: the share is to be asked for again."""
        self.ticket += 1
        self.share = None
        self.known.clear()


def shares_of(environment: Environment) -> Shares:
    """This process's share state, created on first use (users may run before init ends)."""
    found = getattr(environment, ATTRIBUTE, None)
    if not isinstance(found, Shares):
        found = Shares()
        setattr(environment, ATTRIBUTE, found)
    return found


def wait_for_share(environment: Environment, stopping: Callable[[], bool]) -> Share | None:
    """This process's share, once known; None if it has none or the run stops first."""
    shares = shares_of(environment)
    runner = environment.runner
    asked_at: float | None = None
    while not shares.known.is_set():
        if stopping():
            return None
        if not shares.installed.is_set():
            shares.installed.wait(POLL_S)
            continue
        if isinstance(runner, WorkerRunner):
            now = time.monotonic()
            if asked_at is None or now - asked_at >= ASK_AGAIN_S:
                runner.send_message(REQUEST, {"ticket": shares.ticket})
                asked_at = now
        shares.known.wait(POLL_S)
    return shares.share


def _fix(environment: Environment, **_: Any) -> None:
    """Test start on the master: number the connected workers; standalone: all of it."""
    shares = shares_of(environment)
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        workers = runner.clients.ready + runner.clients.spawning + runner.clients.running
        workers.sort(key=lambda w: runner.get_worker_index(w.id))
        started = time.time()
        count = max(len(workers), 1)
        shares.table = {w.id: Share(i, count, started) for i, w in enumerate(workers)}
        shares.settle(Share(0, count, started))
    elif isinstance(runner, WorkerRunner):
        shares.forget()
    else:
        shares.settle(Share())


def _answer(environment: Environment, msg: Any, **_: Any) -> None:
    """On the master: a worker asks for its share."""
    runner = environment.runner
    share = shares_of(environment).table.get(msg.node_id)
    data: dict[str, Any] = {"ticket": msg.data["ticket"], "index": None}
    if share is not None:
        data |= {"index": share.index, "count": share.count, "started_wall": share.started_wall}
    else:
        log.warning(
            "worker %s was not connected when the test started: it gets no share", msg.node_id
        )
    if runner is not None:
        runner.send_message(REPLY, data, client_id=msg.node_id)


def _receive(environment: Environment, msg: Any, **_: Any) -> None:
    """On a worker: the master's answer."""
    shares = shares_of(environment)
    data = msg.data
    if data["ticket"] != shares.ticket or shares.known.is_set():
        return  # the answer to an earlier request
    if data["index"] is None:
        log.error("no share of the load for this worker (it joined after the start): it stays idle")
        shares.settle(None)
        return
    shares.settle(Share(int(data["index"]), int(data["count"]), float(data["started_wall"])))
    log.info("this worker makes share %d of %d of the load", data["index"], data["count"])


def install(environment: Environment, runner: Runner | None) -> None:
    """Hook the shares into this process's runner; call it last in events.init."""
    shares = shares_of(environment)
    if isinstance(runner, WorkerRunner):
        runner.register_message(REPLY, _receive)
        environment.events.test_start.add_listener(_fix)
    else:
        if isinstance(runner, MasterRunner):
            runner.register_message(REQUEST, _answer)
        else:
            shares.settle(Share())  # standalone, until a test start renews the clock
        environment.events.test_start.add_listener(_fix)
    shares.installed.set()
