"""Exit codes of `shopsim gameday` and `shopsim report`: pass, or how the run failed.

0  pass: every expectation held, and nothing no expectation covers went wrong
1  error: the run could not be carried out (the store would not start, a service died)
2  usage: a bad argument or scenario file (refused before anything started)
3  aborted: a stop condition ended the run early
4  expectation missed: something the scenario expected did not happen
5  SLO breached: an objective failed that no expectation said would
6  integrity violated: the audit found harmed data that no expectation said would be harmed
7  invalid run: the load generator, not the store, was the limit
130 interrupted (Ctrl-C or SIGTERM)

When several apply, the first of 1, 130, 2, 7, 3, 6, 4, 5 wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

OK, ERROR, USAGE, ABORTED, EXPECTATION, SLO, INTEGRITY, INVALID, INTERRUPTED = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    130,
)
PRECEDENCE = (ERROR, INTERRUPTED, USAGE, INVALID, ABORTED, INTEGRITY, EXPECTATION, SLO)
MEANING = {
    OK: "pass",
    ERROR: "the run failed to complete",
    USAGE: "bad argument or scenario",
    ABORTED: "a stop condition ended the run",
    EXPECTATION: "an expectation was missed",
    SLO: "an SLO was breached that no expectation covers",
    INTEGRITY: "data was harmed that no expectation covers",
    INVALID: "the run is invalid: the load generator was the limit",
    INTERRUPTED: "interrupted",
}


def exit_code(
    *,
    outcome: str | None,
    valid: bool,
    integrity: dict[str, Any],
    expectations: Sequence[dict[str, Any]],
    breached: Sequence[str],
    expected_breaches: Sequence[str] | None,
    expects_harm: bool,
) -> tuple[int, list[str]]:
    """The exit code and every reason that applies, most serious first."""
    found: dict[int, list[str]] = {}

    def note(code: int, reason: str) -> None:
        found.setdefault(code, []).append(reason)

    if outcome == "error":
        note(ERROR, "the run ended in an error")
    elif outcome == "interrupted":
        note(INTERRUPTED, "the run was interrupted")
    elif outcome == "stopped":
        note(ABORTED, "a stop condition ended the run early")
    if not valid:
        note(INVALID, "the load generator was the limit")
    violations = integrity.get("violations") or {}
    if integrity.get("checked") and violations and not expects_harm:
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(violations.items()))
        note(INTEGRITY, f"integrity violated: {kinds}")
    for e in expectations:
        if not e["passed"]:
            note(
                EXPECTATION, f"expectation {e['name']}: expected {e['expected']}, got {e['actual']}"
            )
    covered = set(expected_breaches or ())
    for name in breached:
        if name not in covered:
            note(SLO, f"SLO {name} breached")
    for code in PRECEDENCE:
        if code in found:
            reasons = [r for c in PRECEDENCE for r in found.get(c, [])]
            return code, reasons
    return OK, []
