"""What the auto-poster says: which components are hurt and how badly, in customers' words.

Pure functions of the live alerts (`Firing`) and of the integrity audit, so they are tested on
made-up input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopsim.gameday.livealerts import Firing

#: Customer flow (the load generator's `flow`) -> status-page component.
FLOW_COMPONENT = {
    "browse": "browse",
    "cart": "cart",
    "checkout": "checkout",
    "gift": "gift_registry",
}
#: Alerts that name a component whatever the flows say (business alerts by owner's meaning).
ALERT_COMPONENT = {
    "checkout_availability": "checkout",
    "checkout_latency": "checkout",
    "browse_availability": "browse",
    "gift_alerts_out_of_proportion": "order_emails",
    "outbox_stalled": "order_emails",
    "orders_charged_twice": "checkout",
    "declines_out_of_proportion": "checkout",
    "stock_oversold": "checkout",
}
#: Failing share of a flow -> component status (first bound reached, worst first).
BOUNDS = ((0.5, "major_outage"), (0.1, "partial_outage"), (0.02, "degraded_performance"))
NOBODY = "parts of the store"  # when no component can be named
TITLES = {
    "browse": "browsing",
    "cart": "the cart",
    "checkout": "checkout",
    "gift_registry": "the gift registry",
    "order_emails": "order emails",
}


def status_of(share: float) -> str:
    """Component status for the failing share of its flow."""
    return next((status for bound, status in BOUNDS if share >= bound), "operational")


def components_hurt(firing: Firing) -> dict[str, str]:
    """Component -> status, for every component the firing alerts or failing flows touch."""
    hurt = {
        FLOW_COMPONENT[flow]: status_of(share)
        for flow, share in firing.failing.items()
        if flow in FLOW_COMPONENT and status_of(share) != "operational"
    }
    for alert in firing.alerts:
        key = alert.slo or alert.name
        named = ALERT_COMPONENT.get(key)
        if named and named not in hurt and (alert.kind == "business" or not hurt):
            hurt[named] = "degraded_performance"
    return hurt


def _what(hurt: Mapping[str, str], firing: Firing, *, detail: bool = True) -> str:
    parts = []
    flows = {component: flow for flow, component in FLOW_COMPONENT.items()}
    for component in sorted(hurt):
        share = firing.failing.get(flows.get(component, ""), None)
        title = TITLES.get(component, component)
        if not detail:
            parts.append(title)
        elif share and share >= BOUNDS[-1][0]:
            parts.append(f"{title} ({share:.0%} of attempts failing)")
        elif hurt[component] == "degraded_performance":
            parts.append(f"{title} (slow)")
        else:
            parts.append(title)
    return ", ".join(parts) or NOBODY


def describe(kind: str, hurt: Mapping[str, str], firing: Firing) -> str:
    """The text of one post: investigating, ongoing, returned, monitoring, resolved(_at_end)."""
    what = _what(hurt, firing, detail=False)
    now = _what({c: s for c, s in hurt.items() if s != "operational"}, firing)
    if kind == "investigating":
        return f"Some customers have problems with {now}. We are investigating."
    if kind == "ongoing" and now == NOBODY:
        return f"Errors are falling for {what}; we are still working on it. Next update soon."
    if kind == "ongoing":
        return f"We are still working on problems with {now}. Next update soon."
    if kind == "returned":
        return f"The problems are back: {now}. We are working on it."
    if kind == "monitoring":
        return f"Things are working again for {what}; we are monitoring."
    if kind == "resolved_at_end":
        return f"The rehearsal is over; we close this incident ({what} last)."
    return f"This incident is resolved: {what} work normally again."


def data_statement(integrity: Mapping[str, Any] | None) -> tuple[str, str]:
    """(data_impact, words) from the integrity audit: none, harmed or unknown."""
    if not integrity or not integrity.get("checked"):
        reason = (integrity or {}).get("reason") or "the data could not be checked"
        return "unknown", f"We cannot say yet whether any data was affected ({reason})."
    violations = integrity.get("violations") or {}
    if not violations:
        return "none", "No data was lost or corrupted: every charge, order and mail adds up."
    meanings = integrity.get("meanings") or {}
    found = "; ".join(f"{meanings.get(k, k)} ({n})" for k, n in sorted(violations.items()))
    return "harmed", f"Some data was affected: {found}. We are contacting those concerned."
