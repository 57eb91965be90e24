"""The integrity audit and the database half of customer impact, as report.json holds them.

The store's data is read once, read-only, from where the manifest says it lives; "now" for
the audit is when the run ended. A store whose data cannot be read (a run directory copied
without its databases, a PostgreSQL database since dropped) is reported as not audited, with
the reason, never as clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shopsim.verdict.audit import audit_snapshot
from shopsim.verdict.findings import KINDS, NOTICES
from shopsim.verdict.impact_db import ImpactFacts, facts
from shopsim.verdict.snapshot import AuditError, load


@dataclass(frozen=True)
class StoreFacts:
    """What the databases say: the audit (as report.json holds it) and the impact facts."""

    integrity: dict[str, Any]
    impact: ImpactFacts | None


def _not_audited(reason: str) -> StoreFacts:
    return StoreFacts(
        {"checked": False, "clean": None, "violations": {}, "examples": {}, "reason": reason},
        None,
    )


def read_store(databases: Mapping[str, str | None], now: float | None) -> StoreFacts:
    """Audit the store's data and gather impact facts from it."""
    if not any(databases.values()):
        return _not_audited("the manifest names no database")
    try:
        snap = load(databases)
    except AuditError as err:
        return _not_audited(str(err))
    found = audit_snapshot(snap, now=now)
    if not found.checked:
        return _not_audited("none of the store's tables could be read")
    violations = {kind: n for kind, n in found.violations.items() if n}
    integrity = {
        "checked": True,
        "clean": not violations,
        "violations": violations,
        "meanings": {kind: KINDS[kind] for kind in violations},
        "examples": {kind: found.examples.get(kind, []) for kind in violations},
        "checks": list(found.checked),
        "in_flight": found.in_flight,
        "notices": {kind: n for kind, n in found.notices.items() if n},
        "notice_meanings": {kind: NOTICES[kind] for kind, n in found.notices.items() if n},
    }
    return StoreFacts(integrity, facts(snap))
