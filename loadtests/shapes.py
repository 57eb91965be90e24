"""Load shapes: stage tables Locust follows, for either model.

A shape is a table of stages (schedule.py). Under the closed model a stage's target is a
number of users, spawned at the rate that reaches it over the ramp (or within a second); under
the open model it is arrivals per second, and the shape only keeps one `OpenModelUser` per load
process running, whose scheduler makes the arrivals. Either way the run ends after the last
stage and its drain (the users stop, their journeys get ``--stop-timeout`` to finish, their
final stats come in): tick() returns None. ``--run-time``, when given, is a hard stop on top
(armed by the locustfile: Locust itself only arms it once a shape has finished).

Pick one with ``SHOPSIM_SHAPE=constant|step|spike|wave|sale_day`` (targets read as users, or
as arrivals/s with ``SHOPSIM_LOAD_MODEL=open``); ``SHOPSIM_LOAD_PLAN`` brings its own stages
(PlanShape). Subclass one in your own locustfile to change its numbers.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from typing import ClassVar

from locust import LoadTestShape, User
from locust.runners import MasterRunner

from .exporter import metrics_of
from .openmodel import OpenModelUser
from .plan import Plan, PlanError, read_plan
from .schedule import Stage, stage_index_at, target_at
from .users import closed_user_classes

SHAPE_ENV = "SHOPSIM_SHAPE"
#: After the last stage: how long to wait once the users are gone, for the workers' final
#: stats (reported every 3 s) or, standalone, for a 1 s metrics sampler to see the totals.
SETTLE_WORKERS_S = 3.5
SETTLE_LOCAL_S = 1.0
DRAIN_SLACK_S = 10.0  # on top of --stop-timeout, should a worker never report its users gone

TickResult = tuple[int, float, list[type[User]]] | None


class StagedShape(LoadTestShape):
    """Follows `stages`; the model and the mix come from the plan."""

    abstract = True
    use_common_options = True  # --run-time is honoured (as a hard stop): no warning
    stages: ClassVar[tuple[Stage, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.plan: Plan = read_plan(os.environ)
        self._drain_from: float | None = None
        self._gone_from: float | None = None

    def reset_time(self) -> None:
        super().reset_time()
        self._drain_from = self._gone_from = None

    def stage_table(self) -> tuple[Stage, ...]:
        """The stages this shape follows."""
        return self.stages

    def _classes(self) -> list[type[User]]:
        if self.plan.model == "open":
            return [OpenModelUser]
        return list(closed_user_classes(self.plan.mix))

    def _drain(self) -> TickResult:
        """After the last stage: no users (their last journeys get --stop-timeout to finish),
        then end once they are gone and their final stats have reached this process.

        Ending at once would lose them: a headless master quits without waiting for its
        workers' last reports (sent every 3 s), and the metrics of the final second with it.
        """
        now = time.monotonic()
        runner = self.runner
        if self._drain_from is None:
            self._drain_from = now
        settle = SETTLE_WORKERS_S if isinstance(runner, MasterRunner) else SETTLE_LOCAL_S
        if runner is None or runner.user_count == 0:
            self._gone_from = self._gone_from or now
            if now - self._gone_from >= settle:
                return None
        elif now - self._drain_from > (runner.environment.stop_timeout or 0) + DRAIN_SLACK_S:
            return None
        return 0, 100.0, self._classes()

    def tick(self) -> TickResult:
        """(users, spawn rate, user classes) for now; None once the last stage has drained."""
        stages = self.stage_table()
        t = self.get_run_time()
        index = stage_index_at(stages, t)
        metrics = metrics_of(self.runner.environment) if self.runner else None
        if index is None:
            if metrics is not None:
                metrics.set_target(0.0)
            return self._drain()
        if metrics is not None:
            metrics.set_target(target_at(stages, t) or 0.0)
        if self.plan.model == "open":
            processes = self.runner.worker_count if isinstance(self.runner, MasterRunner) else 1
            return processes, 100.0, self._classes()  # one scheduler per process, all at once
        stage = stages[index]
        previous = stages[index - 1].target if index else 0.0
        change = abs(stage.target - previous)
        rate = change / stage.duration_s if stage.ramp else change
        return int(round(stage.target)), rate if rate > 0 else 1.0, self._classes()


class PlanShape(StagedShape):
    """The stages of SHOPSIM_LOAD_PLAN."""

    def stage_table(self) -> tuple[Stage, ...]:
        return self.plan.stages


class ConstantShape(StagedShape):
    """A steady 10 for a minute."""

    stages = (Stage(60, 10),)


class StepShape(StagedShape):
    """10, 20, ... 50, half a minute each: where does it start to hurt?"""

    stages = tuple(Stage(30, 10 * k) for k in range(1, 6))


class SpikeShape(StagedShape):
    """A steady 10, a jump to 60 within 2 s for 20 s, back to 10: does it recover?"""

    stages = (
        Stage(30, 10),
        Stage(2, 60, ramp=True),
        Stage(20, 60),
        Stage(2, 10, ramp=True),
        Stage(30, 10),
    )


def _wave(low: float, high: float, period_s: float, periods: int, step_s: float) -> tuple:
    mid, half = (low + high) / 2, (high - low) / 2
    count = int(period_s * periods / step_s)
    points = [
        mid - half * math.cos(2 * math.pi * step_s * (i + 1) / period_s) for i in range(count)
    ]
    return (Stage(step_s, low), *(Stage(step_s, round(p, 3), ramp=True) for p in points))


class WaveShape(StagedShape):
    """Between 5 and 30 and back every minute, three times (straight 5 s ramps)."""

    stages = _wave(5, 30, period_s=60, periods=3, step_s=5)


class SaleDayShape(StagedShape):
    """Quiet, then the announced start: 8x baseline within 3 s, a plateau, a long decay."""

    stages = (
        Stage(30, 5),
        Stage(3, 40, ramp=True),
        Stage(60, 40),
        Stage(45, 10, ramp=True),
        Stage(15, 10),
    )


SHAPES: Mapping[str, type[StagedShape]] = {
    "constant": ConstantShape,
    "step": StepShape,
    "spike": SpikeShape,
    "wave": WaveShape,
    "sale_day": SaleDayShape,
}


def choose_shape(plan: Plan, name: str | None) -> type[StagedShape] | None:
    """PlanShape for a plan with stages, else the named shape, else None (the web UI steers)."""
    if plan.stages:
        if name:
            raise PlanError(f"{SHAPE_ENV} and SHOPSIM_LOAD_PLAN both given: use one")
        return PlanShape
    if not name:
        if plan.model == "open":
            raise PlanError("the open model needs stages: set SHOPSIM_LOAD_PLAN or SHOPSIM_SHAPE")
        return None
    if name not in SHAPES:
        raise PlanError(f"{SHAPE_ENV} must be one of {', '.join(SHAPES)}, not {name!r}")
    return SHAPES[name]
