"""The project's locustfile with the worst start-up order forced on every worker.

Locust connects a worker to its master before the worker's init event fires, so the master may
start the test and the worker receive its first users before the locustfile has set anything
up. Here each worker's init waits until its users exist before the project's own init runs,
which makes that order certain instead of rare. Used by tests/test_loadtests.py only.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import Runner, WorkerRunner

WAIT_FOR_USERS_S = 30.0


@events.init.add_listener
def hold_init_until_users_exist(environment: Environment, runner: Runner | None, **_: Any) -> None:
    """On a worker: let the master's test start and this worker's users arrive first."""
    if not isinstance(runner, WorkerRunner):
        return
    deadline = time.monotonic() + WAIT_FOR_USERS_S
    while runner.user_count == 0 and time.monotonic() < deadline:
        gevent.sleep(0.05)


# Registered after the listener above, so the project's init runs second.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from loadtests.locustfile import *  # noqa: E402, F403
