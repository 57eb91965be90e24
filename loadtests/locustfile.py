"""shopsim's locustfile: customers on the storefront's pages, closed or open model.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8100            # web UI steers
    SHOPSIM_SHAPE=sale_day locust -f loadtests/locustfile.py --headless --host ...
    SHOPSIM_LOAD_PLAN='{"model": "open", ...}' locust -f loadtests/locustfile.py --headless ...

What runs is decided here, once, from the environment (plan.py): the plan's stages
(PlanShape) or a named shape (SHOPSIM_SHAPE) or none; the open model's OpenModelUser or the
closed model's users with the plan's mix. Only the chosen classes are bound in this module,
because Locust runs every user class and the first shape class it finds here. The host must be
on this machine (loopback), or Locust refuses to start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# Locust imports this file by path: make `loadtests` (and `shopsim`) importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gevent  # noqa: E402
from locust import events  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.runners import STATE_STOPPED, Runner, WorkerRunner  # noqa: E402

from loadtests import exporter, openmodel, share  # noqa: E402
from loadtests.plan import PlanError, check_loopback, read_plan  # noqa: E402
from loadtests.shapes import SHAPE_ENV, choose_shape  # noqa: E402
from loadtests.users import closed_user_classes  # noqa: E402

try:
    PLAN = read_plan(os.environ)
    SHAPE = choose_shape(PLAN, os.environ.get(SHAPE_ENV, "").strip() or None)
except PlanError as err:
    sys.exit(f"shopsim loadtests: {err}")

CHOSEN = [openmodel.OpenModelUser] if PLAN.model == "open" else closed_user_classes(PLAN.mix)
# Bind only what this run uses: Locust picks up every class it finds in this module.
globals().update({cls.__name__: cls for cls in CHOSEN})
if SHAPE is not None:
    globals()[SHAPE.__name__] = SHAPE


def _refuse(environment: Environment, message: str) -> None:
    sys.stderr.write(f"shopsim loadtests: {message}\n")
    environment.process_exit_code = 2


@events.init.add_listener
def on_init(environment: Environment, runner: Runner | None, **_: Any) -> None:
    """Refuse a non-loopback host, then wire the metrics, the shares and the hard stop."""
    options = environment.parsed_options
    headless = bool(getattr(options, "headless", False))
    worker = isinstance(runner, WorkerRunner)
    if environment.host or (headless and not worker):
        try:
            check_loopback(environment.host)
        except PlanError as err:
            sys.exit(f"shopsim loadtests: {err}")
    exporter.install(environment, runner, PLAN.metrics_port)
    # Last: a worker's users wait for it, so none runs before the metrics are in place.
    share.install(environment, runner)
    run_time = getattr(options, "run_time", None)
    if SHAPE is not None and run_time and headless and not worker:
        # Locust waits for a shape to finish before it arms --run-time: arm it here instead.
        gevent.spawn_later(run_time, _hard_stop, environment)


def _hard_stop(environment: Environment) -> None:
    runner = environment.runner
    if runner is not None and runner.state != STATE_STOPPED:
        sys.stderr.write("shopsim loadtests: --run-time reached, stopping\n")
        runner.quit()


@events.test_start.add_listener
def on_test_start(environment: Environment, **_: Any) -> None:
    """The web UI can set the host after start-up: check it again before any user runs."""
    if isinstance(environment.runner, WorkerRunner):
        return
    try:
        check_loopback(environment.host)
    except PlanError as err:
        _refuse(environment, str(err))
        if environment.runner is not None:
            gevent.spawn(environment.runner.stop)
