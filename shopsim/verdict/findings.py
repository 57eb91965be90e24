"""What the integrity audit can find: the one table of violation kinds and notices, each with the
line a report prints, and `Findings`, the tally one audit fills in.

A violation is data harmed: money, stock or mail that is wrong and stays wrong. A notice is
something late or parked for a human that harmed nothing by itself (mail still queued, a
message set aside); the report shows it, the exit code ignores it.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

MAX_EXAMPLES = 5

DUPLICATE_CHARGE = "duplicate_charge"
CHARGE_WITHOUT_ORDER = "charge_without_order"
ORDER_WITHOUT_CHARGE = "order_without_charge"
CHARGE_AMOUNT_MISMATCH = "charge_amount_mismatch"
UNACCOUNTED_CHARGE = "unaccounted_charge"
OVERSOLD = "oversold"
RESERVED_MISMATCH = "reserved_mismatch"
EXPIRED_HOLD = "expired_hold"
GIFT_ALERT_WRONG_RECIPIENT = "gift_alert_wrong_recipient"
GIFT_ALERT_WRONG_MAIL = "gift_alert_wrong_mail"
CONFIRMATION_WRONG_RECIPIENT = "confirmation_wrong_recipient"
CART_NOT_CLEARED = "cart_not_cleared"
CHECKOUT_STUCK = "checkout_stuck"

#: Violation kind -> what one counted instance means.
KINDS: MappingProxyType[str, str] = MappingProxyType(
    {
        DUPLICATE_CHARGE: "a checkout (one idempotency key, one order) charged more than once",
        CHARGE_WITHOUT_ORDER: "a charge whose order does not exist or failed: money taken for "
        "nothing",
        ORDER_WITHOUT_CHARGE: "a confirmed order with no charge in payment's ledger",
        CHARGE_AMOUNT_MISMATCH: "a charge whose amount differs from its order's total",
        UNACCOUNTED_CHARGE: "payment's ledger and idempotency store disagree: a charge no stored "
        "capture answer accounts for, or a stored answer naming a charge the ledger lacks",
        OVERSOLD: "a SKU with more units sold or held than it had (reserved > on_hand, or "
        "on_hand < 0)",
        RESERVED_MISMATCH: "a SKU whose reserved count differs from the units its held "
        "reservations hold",
        EXPIRED_HOLD: "a reservation still holding stock after its expiry, past the sweeper's "
        "grace",
        GIFT_ALERT_WRONG_RECIPIENT: "a customer who got a gift alert for a registry they "
        "neither own nor follow (distinct customers)",
        GIFT_ALERT_WRONG_MAIL: "a gift alert mail sent to someone who neither owns nor follows "
        "the registry the gift was bought from",
        CONFIRMATION_WRONG_RECIPIENT: "an order confirmation mailed to someone other than the "
        "order's buyer, or for an order that was not confirmed",
        CART_NOT_CLEARED: "a confirmed order from the cart whose bought lines were never taken "
        "out of the buyer's cart",
        CHECKOUT_STUCK: "a half-done checkout nobody finished or undid within the recovery "
        "takeover bound",
    }
)

OUTBOX_QUEUED = "outbox_queued"
OUTBOX_DEAD_LETTER = "outbox_dead_letter"
CONFIRMATION_MISSING = "confirmation_missing"
GIFT_ALERT_MISSING = "gift_alert_missing"
AUTHORIZATION_OPEN = "authorization_open"

#: Notice kind -> what one counted instance means.
NOTICES: MappingProxyType[str, str] = MappingProxyType(
    {
        OUTBOX_QUEUED: "a message still queued in the outbox at the end (mail not sent yet)",
        OUTBOX_DEAD_LETTER: "a message parked as undeliverable, with its error, for a human",
        CONFIRMATION_MISSING: "a confirmed order whose buyer got no confirmation mail",
        GIFT_ALERT_MISSING: "a gift whose registry's owner and followers got no alert",
        AUTHORIZATION_OPEN: "an authorization still holding money on a card whose checkout is "
        "over (it lapses at the card network)",
    }
)


class Findings:
    """The tally of one audit: counts per kind and up to MAX_EXAMPLES examples each."""

    def __init__(self, now: float, *, expiry_grace_s: float, takeover_bound_s: float) -> None:
        self.now = now
        self.expiry_grace_s = expiry_grace_s  # how late the sweeper may release an expired hold
        self.takeover_bound_s = takeover_bound_s  # how long a half-done checkout may sit untouched
        self.counts: dict[str, int] = {}
        self.examples: dict[str, list[dict[str, Any]]] = {}
        self.in_flight: list[dict[str, Any]] = []

    def checking(self, kinds: Iterable[str]) -> None:
        """Mark `kinds` as checked: each is counted from zero."""
        for kind in kinds:
            if kind not in KINDS and kind not in NOTICES:
                raise KeyError(f"unknown audit kind {kind!r}")
            self.counts.setdefault(kind, 0)

    def add(self, kind: str, example: dict[str, Any]) -> None:
        """Count one instance of `kind`; keep `example` if fewer than MAX_EXAMPLES are kept."""
        self.counts[kind] += 1
        kept = self.examples.setdefault(kind, [])
        if len(kept) < MAX_EXAMPLES:
            kept.append(example)

    def age_s(self, at: float | None) -> float | None:
        """Seconds from `at` to the audit's now, to a tenth (None stays None)."""
        return None if at is None else round(self.now - at, 1)
