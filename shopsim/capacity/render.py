"""The search as a terminal table, an answer line and capacity.json's data."""

from __future__ import annotations

from typing import Any

from shopsim.capacity.search import Found, Step


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def row(step: Step) -> str:
    """One step as a table line."""
    held = "yes" if step.held else "NO"
    valid = "yes" if step.valid else "NO"
    what = step.culprit or ", ".join(step.breached)
    return (
        f"{step.rate:>9g} {step.phase:<7} {_pct(step.checkout_success):>9} "
        f"{_secs(step.p95_s):>7} {held:<5} {valid:<6}{what}"
    )


HEAD = f"{'rate (/s)':>9} {'phase':<7} {'checkout':>9} {'p95':>7} {'SLOs':<5} {'valid':<6}culprit"


def table(steps: list[Step]) -> str:
    """Every step, in the order run."""
    return "\n".join([HEAD, "-" * (len(HEAD) + 10), *(row(s) for s in steps)])


def headroom(found: Found, peak: float) -> float | None:
    """Found rate over the scenario's own peak rate."""
    return None if found.rate is None else round(found.rate / peak, 2)


def answer(found: Found, peak: float, scenario: str) -> str:
    """The final answer in one line."""
    if found.rate is None:
        bad = found.first_bad
        lowest = f"{bad.rate:g}/s" if bad else "any rate"
        return f"{scenario}: no rate held (SLOs broke even at {lowest})"
    bound = "at least " if found.reached_max else ""
    line = (
        f"{scenario}: capacity {bound}{found.rate:g} arrivals/s; headroom "
        f"{headroom(found, peak):g}x over the scenario's peak of {peak:g}/s"
    )
    if found.first_bad is not None:
        bad = found.first_bad
        what = bad.culprit or "no culprit named"
        line += f"; at {bad.rate:g}/s {', '.join(bad.breached) or 'the step'} broke, {what} first"
    if not found.valid:
        line += "; INVALID: the load generator, not the store, was the limit"
    return line


def to_json(found: Found, meta: dict[str, Any]) -> dict[str, Any]:
    """Everything the search found, as plain data."""
    bad = found.first_bad
    return meta | {
        "rate": found.rate,
        "lower_bound_only": found.reached_max,
        "valid": found.valid,
        "headroom": headroom(found, meta["peak_rate"]),
        "first_failing_rate": None if bad is None else bad.rate,
        "saturated_first": None if bad is None else bad.culprit,
        "breached_at_first_failing_rate": [] if bad is None else list(bad.breached),
        "steps": [s.to_json() for s in found.steps],
    }
