"""The integrity audit: was any data harmed? Money, stock and mail checked against each other
across the services' databases, read-only.

    audit(manifest["databases"], now=...) -> Integrity

Violation kinds and notices, each with the line a report prints, are the tables `KINDS` and
`NOTICES` (shopsim/verdict/findings.py); the checks that count them are `CHECKS`, one row each:
the tables it needs (a check whose tables could not be read is skipped, and absent from
`Integrity.checked`) and the kinds it counts. The snapshot is read once (`snapshot.load`), then
every check is a pure function of it, so a caller that also wants the impact facts reads the
data once: `audit_snapshot(load(databases))`, `impact_db.facts(snapshot)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shopsim.verdict import audit_flow, audit_mail, audit_money
from shopsim.verdict import findings as k
from shopsim.verdict.findings import KINDS, NOTICES, Findings
from shopsim.verdict.snapshot import AuditError, Snapshot, load

__all__ = ["CHECKS", "KINDS", "NOTICES", "AuditError", "Integrity", "audit", "audit_snapshot"]

EXPIRY_GRACE_S = audit_money.EXPIRY_GRACE_S
TAKEOVER_BOUND_S = audit_flow.TAKEOVER_BOUND_S


@dataclass(frozen=True)
class Integrity:
    """What the audit found. `violations` and `notices` hold every kind that was checked (0:
    checked, none found); `examples` up to five per kind found; `in_flight` every half-done
    checkout at the end (``stuck`` when left behind, which is also a violation)."""

    violations: dict[str, int]
    examples: dict[str, list[dict[str, Any]]]
    in_flight: list[dict[str, Any]]
    checked: list[str]
    notices: dict[str, int]

    @property
    def clean(self) -> bool:
        """True when no violation of any checked kind was found."""
        return not any(self.violations.values())


@dataclass(frozen=True)
class Check:
    """One invariant check: what it reads and what it counts."""

    name: str
    run: Callable[[Snapshot, Findings], None]
    tables: tuple[str, ...]
    kinds: tuple[str, ...]


CHECKS: tuple[Check, ...] = (
    Check(
        "charges",
        audit_money.check_charges,
        ("checkout_orders", "payment_charges"),
        (k.DUPLICATE_CHARGE, k.CHARGE_WITHOUT_ORDER, k.ORDER_WITHOUT_CHARGE)
        + (k.CHARGE_AMOUNT_MISMATCH,),
    ),
    Check(
        "ledger",
        audit_money.check_ledger,
        ("payment_charges", "payment_idempotency"),
        (k.UNACCOUNTED_CHARGE,),
    ),
    Check(
        "authorizations",
        audit_money.check_authorizations,
        ("checkout_orders", "payment_authorizations"),
        (k.AUTHORIZATION_OPEN,),
    ),
    Check(
        "stock",
        audit_money.check_stock,
        ("inventory_stock", "inventory_reservations"),
        (k.OVERSOLD, k.RESERVED_MISMATCH),
    ),
    Check("holds", audit_money.check_holds, ("inventory_reservations",), (k.EXPIRED_HOLD,)),
    Check(
        "gift_alerts",
        audit_mail.check_gift_alerts,
        ("notifications_mail_sink", "notifications_registry_subscriptions")
        + ("registry_registries", "registry_purchases"),
        (k.GIFT_ALERT_WRONG_RECIPIENT, k.GIFT_ALERT_WRONG_MAIL, k.GIFT_ALERT_MISSING),
    ),
    Check(
        "confirmations",
        audit_mail.check_confirmations,
        ("notifications_mail_sink", "checkout_orders"),
        (k.CONFIRMATION_WRONG_RECIPIENT, k.CONFIRMATION_MISSING),
    ),
    Check(
        "carts",
        audit_flow.check_carts,
        ("checkout_orders", "checkout_followups", "cart_purchases"),
        (k.CART_NOT_CLEARED,),
    ),
    Check(
        "in_flight",
        audit_flow.check_in_flight,
        ("checkout_attempts", "checkout_orders", "checkout_followups"),
        (k.CHECKOUT_STUCK,),
    ),
    Check(
        "outbox",
        audit_mail.check_outbox,
        ("notifications_messages", "notifications_dead_letters"),
        (k.OUTBOX_QUEUED, k.OUTBOX_DEAD_LETTER),
    ),
)


def audit(
    databases: Mapping[str, str | None],
    *,
    now: float | None = None,
    expiry_grace_s: float = EXPIRY_GRACE_S,
    takeover_bound_s: float = TAKEOVER_BOUND_S,
) -> Integrity:
    """Audit the data in `databases` (service -> SQLAlchemy URL, as the manifest records them).

    `now` is the end of the run: what "expired" and "left behind" are measured against. Give
    the time the store stopped; by default it is the newest time the data itself records, so
    auditing a run directory again later gives the same answer. Raises AuditError when a
    database cannot be opened."""
    return audit_snapshot(
        load(databases),
        now=now,
        expiry_grace_s=expiry_grace_s,
        takeover_bound_s=takeover_bound_s,
    )


def audit_snapshot(
    snap: Snapshot,
    *,
    now: float | None = None,
    expiry_grace_s: float = EXPIRY_GRACE_S,
    takeover_bound_s: float = TAKEOVER_BOUND_S,
) -> Integrity:
    """Run every check whose tables the snapshot holds (see `audit`)."""
    if now is None:
        now = snap.latest if snap.latest is not None else time.time()
    found = Findings(now, expiry_grace_s=expiry_grace_s, takeover_bound_s=takeover_bound_s)
    checked = []
    for check in CHECKS:
        if not snap.has(*check.tables):
            continue
        found.checking(check.kinds)
        check.run(snap, found)
        checked.append(check.name)
    return Integrity(
        violations={kind: n for kind, n in found.counts.items() if kind in KINDS},
        examples=found.examples,
        in_flight=found.in_flight,
        checked=checked,
        notices={kind: n for kind, n in found.counts.items() if kind in NOTICES},
    )
