"""One cell of the matrix: a dependency taken down one way, and what each journey did meanwhile.

`run_cell` applies the fault through the chaos API, runs rounds of journeys until the fault's
window closes, waits for the store to be whole again (a crashed service restarted by its Stack),
waits for the order emails, and tries one round more. `judge` and `judge_email` are pure: the
attempts and the baseline in, a state and its evidence out.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shopsim.faults.control import ChaosClient
from shopsim.matrix.journeys import JOURNEYS, Attempt, Shopper
from shopsim.runner import Stack, check_health

DEPENDENCIES = ("catalog", "cart", "inventory", "payment", "checkout", "registry", "notifications")
KINDS = ("outage", "crash")
WORKS, DEGRADES, BREAKS = "works", "degrades", "breaks"
LEAD_S = 2.5  # an order placed this long before the fault's end had time to be mailed meanwhile


@dataclass(frozen=True)
class Timing:
    window_s: float  # how long the dependency is down
    mail_wait_s: float  # how long after recovery an email may take to count as arrived
    recover_wait_s: float = 30.0  # how long after the fault every journey may take to work


@dataclass(frozen=True)
class Verdict:
    state: str  # works | degrades | breaks
    evidence: str


@dataclass
class Cell:
    dependency: str
    kind: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    recovered_s: float | None = None  # from the fault's end to the first round all worked
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The cell as plain data."""
        return {
            "dependency": self.dependency,
            "kind": self.kind,
            "journeys": {j: vars(v) for j, v in self.verdicts.items()},
            "recovered_s": None if self.recovered_s is None else round(self.recovered_s, 1),
            "seconds": round(self.seconds, 1),
        }


def judge(attempts: list[Attempt], baseline_s: float) -> Verdict:
    """Works: every try succeeded about as fast as before; breaks: none did; else degrades."""
    ok = [a for a in attempts if a.ok]
    failures = Counter(a.status for a in attempts if not a.ok)
    failed = ", ".join(f"{n}x {s}" for s, n in failures.most_common(3))
    if not ok:
        return Verdict(BREAKS, f"0/{len(attempts)} succeeded: {failed}")
    median = statistics.median(a.seconds for a in ok)
    if len(ok) < len(attempts):
        return Verdict(DEGRADES, f"{len(ok)}/{len(attempts)} succeeded; failed: {failed}")
    if median > max(3 * baseline_s, baseline_s + 1.0):
        return Verdict(DEGRADES, f"all {len(ok)} succeeded but median {median:.2f}s")
    return Verdict(WORKS, f"{len(ok)}/{len(attempts)} succeeded, median {median:.2f}s")


def judge_email(during: int, after: int, never: int) -> Verdict:
    """From the orders confirmed in time: mailed during the fault, only after it, or never."""
    total = during + after + never
    if total == 0:
        return Verdict(BREAKS, "no order was confirmed during the fault, so no email")
    if never:
        return Verdict(BREAKS, f"{never}/{total} confirmation emails never arrived")
    if after:
        return Verdict(DEGRADES, f"{after}/{total} emails arrived only after recovery")
    return Verdict(WORKS, f"{during}/{total} emails arrived during the fault")


def baseline(shopper: Shopper, rounds: int = 2) -> dict[str, float]:
    """Median seconds per journey on the healthy store; raises when one fails."""
    attempts = [a for _ in range(rounds) for a in shopper.round()]
    failed = [f"{a.journey}: {a.status}" for a in attempts if not a.ok]
    if failed:
        raise RuntimeError("the store fails before any fault: " + "; ".join(failed))
    return {
        j: statistics.median(a.seconds for a in attempts if a.journey == j)
        for j in JOURNEYS
        if j != "order_email"
    }


def run_cell(
    stack: Stack,
    shopper: Shopper,
    dependency: str,
    kind: str,
    timing: Timing,
    base: dict[str, float],
) -> Cell:
    """Take `dependency` down as `kind` for the window; judge every journey."""
    cell, started = Cell(dependency, kind), time.monotonic()
    settings = stack.settings
    spec: dict[str, Any] = {"type": kind, "target": dependency, "duration_s": timing.window_s}
    spec["name"] = f"matrix-{kind}-{dependency}"
    with ChaosClient(settings) as chaos:
        chaos.add(spec)
    end = time.monotonic() + timing.window_s
    if kind == "crash":
        _until(lambda: dependency in stack.crashed(), 10.0)
    attempts: list[Attempt] = []
    placed: dict[str, float] = {}  # order id -> when it was confirmed
    mailed: dict[str, float] = {}
    while time.monotonic() < end - 0.5 or not attempts:
        for attempt in shopper.round():
            attempts.append(attempt)
            if attempt.journey == "checkout" and attempt.ok and attempt.order_id:
                placed[attempt.order_id] = time.monotonic()
        _check_mail(shopper, placed, mailed)
    _until(lambda: time.monotonic() >= end, timing.window_s)
    fault_end = time.monotonic()
    with ChaosClient(settings) as chaos:
        chaos.reset()
    _until(lambda: not stack.crashed() and all(h.ok for h in check_health(settings)), 60.0)
    _until(lambda: _check_mail(shopper, placed, mailed), timing.mail_wait_s)
    for journey in JOURNEYS[:-1]:
        tries = [a for a in attempts if a.journey == journey]
        cell.verdicts[journey] = judge(tries, base[journey])
    eligible = [o for o, at in placed.items() if at <= fault_end - LEAD_S] or list(placed)
    during = sum(1 for o in eligible if o in mailed and mailed[o] <= fault_end)
    after = sum(1 for o in eligible if o in mailed and mailed[o] > fault_end)
    cell.verdicts["order_email"] = judge_email(during, after, len(eligible) - during - after)
    # Breakers and backoffs may hold callers back a while: the next cell starts from a whole store.
    if _until(lambda: all(a.ok for a in shopper.round()), timing.recover_wait_s):
        cell.recovered_s = time.monotonic() - fault_end
    cell.seconds = time.monotonic() - started
    return cell


def _check_mail(shopper: Shopper, placed: dict[str, float], mailed: dict[str, float]) -> bool:
    """Note when each order's email is first seen; True once every one has arrived."""
    for order_id in placed:
        if order_id not in mailed and shopper.mail_arrived(order_id):
            mailed[order_id] = time.monotonic()
    return len(mailed) == len(placed)


def _until(condition: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
