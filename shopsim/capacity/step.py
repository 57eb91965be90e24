"""One capacity step: a short steady game day at one rate, judged by the verdict.

Each step is an ordinary game day (shopsim.gameday.run.GameDay) on the step's variant scenario:
it starts and seeds a store of its own from the scenario's seed, so every step begins from the
same data, and stops it on every exit path. The verdict's own analysis judges it
(shopsim.verdict.report.build_report): its SLO results, its validity (was the load generator the
limit?) and its culprit (what saturated first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shopsim.capacity.search import Step
from shopsim.capacity.variant import variant, write_variant
from shopsim.gameday.run import GameDay
from shopsim.verdict.report import build_report, write_report


class StepError(RuntimeError):
    """A step could not be run (the store or the load generator failed to start or died)."""


def step_of(report: dict[str, Any], rate: float, phase: str) -> Step:
    """What the verdict said about one step, as the search's Step."""
    slos = report.get("slos") or []
    achieved = {s["name"]: s["achieved"] for s in slos}
    breached = tuple(s["name"] for s in slos if not s["passed"])
    culprit = report.get("culprit") or {}
    # the culprit of the breach window; else the top of its ranking, else of the anomalies
    ranking = (culprit.get("ranking") or []) + (report.get("anomalies") or [])
    service = culprit.get("service") or (ranking[0]["service"] if ranking else None)
    notes = list((report.get("validity") or {}).get("reasons") or [])
    if breached and culprit.get("reason"):
        notes.append(str(culprit["reason"]))
    return Step(
        rate=rate,
        held=not breached,
        valid=bool(report.get("valid")),
        checkout_success=achieved.get("checkout_availability"),
        p95_s=(report.get("impact") or {}).get("checkout_p95_s"),
        culprit=service if breached else None,
        breached=breached,
        note="; ".join(notes),
        phase=phase,
        run_dir=report.get("run_dir"),
    )


@dataclass
class Stepper:
    """Runs steps of one scenario; `interrupt` (from a signal handler) ends the current one."""

    raw: dict[str, Any]  # the scenario file's data
    out: Path
    seed: int
    duration_s: float
    port_base: int
    echo: Callable[[str], None] = print
    interrupted: threading.Event = field(default_factory=threading.Event)
    current: GameDay | None = None

    def interrupt(self) -> None:
        """Stop the running step at its next safe point; no further step starts."""
        self.interrupted.set()
        if self.current is not None:
            self.current.interrupt()

    def __call__(self, rate: float, phase: str) -> Step:
        """Run the step at `rate` and judge it."""
        if self.interrupted.is_set():
            raise KeyboardInterrupt
        index = len(list(self.out.glob("step-*.yaml"))) + 1
        path = self.out / f"step-{index:02d}-{rate:g}.yaml"
        scenario = write_variant(variant(self.raw, rate, self.duration_s, self.seed), path)
        game = GameDay(
            scenario,
            path,
            out=self.out / "runs",
            port_base=self.port_base,
            echo=lambda line: None,  # the live view would drown the table
        )
        self.current = game
        try:
            outcome = game.run()
        finally:
            self.current = None
        if outcome.status == "interrupted" or self.interrupted.is_set():
            raise KeyboardInterrupt
        if game.load_started_at is None:
            raise StepError(f"step at {rate:g}/s: {outcome.reason} (see {game.run_dir.root})")
        report = build_report(game.run_dir.root)
        write_report(game.run_dir.root, report)
        step = step_of(report, rate, phase)
        if outcome.status == "error":  # e.g. a service died or Locust gave up: no clean answer
            note = f"the step ended in error: {outcome.reason}"
            return replace(step, held=False, valid=False, note=note)
        return step
