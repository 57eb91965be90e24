"""Budgets: how much of one service's resources its resource faults may take at once.

Resource faults stack: two memory_leak faults on one service hold the sum of their caps. Each
type says what one fault takes (`FaultType.takes()`, e.g. ``{"memory_mb": max_mb}``); the sum
over the faults active on one service must stay within every budget below. The chaos API
refuses the fault that would go over with a 409 naming the budget, and a scenario whose
overlapping faults would go over on one service is refused when it is loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from shopsim.errors import Conflict

if TYPE_CHECKING:
    from shopsim.faults.spec import FaultSpec


@dataclass(frozen=True)
class Budget:
    """One budget per service: `limit` of `unit`, taken by the faults of `types`."""

    name: str
    limit: float
    unit: str
    types: str


BUDGETS: Mapping[str, Budget] = MappingProxyType(
    {
        b.name: b
        for b in (
            Budget("memory_mb", 2048, "MiB of memory", "memory_leak max_mb"),
            Budget("burner_threads", 4, "burner threads", "cpu_burn threads"),
            Budget("held_locks", 2, "lock holders", "db_lock, one each"),
        )
    }
)


class OverBudget(Conflict):
    """A fault would take a service past one of its budgets."""

    code = "over_budget"


def excess(taken: Iterable[Mapping[str, float]], asked: Mapping[str, float]) -> str | None:
    """Why `asked` does not fit beside `taken` (what active faults take), or None."""
    for name, amount in asked.items():
        budget = BUDGETS[name]
        in_use = sum(t.get(name, 0.0) for t in taken)
        if in_use + amount > budget.limit:
            return (
                f"{_n(in_use)} + {_n(amount)} {budget.unit} would exceed the budget {name} of "
                f"{_n(budget.limit)} {budget.unit} per service ({budget.types})"
            )
    return None


def check(service: str, taken: Iterable[Mapping[str, float]], asked: Mapping[str, float]) -> None:
    """Raise OverBudget (409) when `asked` does not fit beside `taken` on `service`."""
    taken = list(taken)
    reason = excess(taken, asked)
    if reason:
        over = next(n for n in asked if excess(taken, {n: asked[n]}))
        raise OverBudget(
            f"{service}: {reason}; remove or wait out a fault first",
            field="params",
            extra={"budget": over, "limit": BUDGETS[over].limit},
        )


def first_over(timeline: Sequence[tuple[float, float, FaultSpec]]) -> tuple[int, str] | None:
    """For faults (start, end, spec) on one timeline: the first one going over, and why.

    Faults overlap when their [start, end) windows do: one ending when another starts never
    stacks with it, as the timeline removes before it adds. The fault named is the last one
    listed of those that go over together.
    """
    faults = [(start, end, spec, spec.kind().takes()) for start, end, spec in timeline]
    for i, (start, end, spec, takes) in enumerate(faults):
        if not takes:
            continue
        for service in spec.services():
            beside = [
                j
                for j, (s, e, other, t) in enumerate(faults[:i])
                if t and s < end and start < e and service in other.services()
            ]
            for at in sorted({start} | {faults[j][0] for j in beside if faults[j][0] > start}):
                live = [j for j in beside if faults[j][0] <= at < faults[j][1]]
                reason = excess([faults[j][3] for j in live], takes)
                if reason:
                    with_ = ", ".join(f"faults[{j}]" for j in live) or "nothing else"
                    return i, f"with {with_} also active on {service} at {_n(at)}s, {reason}"
    return None


def _n(value: float) -> str:
    return f"{value:g}"
