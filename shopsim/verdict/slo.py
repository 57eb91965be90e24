"""SLOs, burn-rate alert tiers and business alerts: defined once, here.

The verdict evaluates them over a run's samples, and the Prometheus rules shipped in grafana/
are generated from the same objects, so an alert means the same thing in both places.

SLIs are the customer's view (the load generator's counters):
- checkout availability: orders answered with a confirmation or an honest "sold out";
- checkout latency: orders answered within the threshold (a histogram bucket bound);
- browse availability: browsing requests answered as expected.

Burn rate = bad share / (1 - objective). Multiwindow tiers from the SRE workbook: page at 14.4
over 1h and 5m, page at 6 over 6h and 30m, ticket at 1 over 3d and 6h. A rehearsal lasts
minutes, so every window and `for` is divided by one factor (60 x the run's time scale: an hour
becomes a minute); short windows stay at least four scrape intervals long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REHEARSAL_FACTOR = 60.0  # production seconds per rehearsal second at time scale 1
SCRAPE_INTERVAL_S = 1.0
MIN_WINDOW_S = 4 * SCRAPE_INTERVAL_S


@dataclass(frozen=True)
class Slo:
    """An objective over one SLI."""

    name: str
    objective: float  # share of good events, in (0, 1)
    sli: str  # checkout_availability | checkout_latency | browse_availability
    threshold_s: float | None = None  # latency SLIs: the bucket bound

    @property
    def budget(self) -> float:
        """The error budget: the bad share allowed."""
        return 1.0 - self.objective

    def describe(self) -> str:
        """'99% of checkouts succeed' and the like."""
        pct = f"{self.objective * 100:g}%"
        if self.sli == "checkout_latency":
            return f"{pct} of checkouts answered within {self.threshold_s:g}s"
        what = "checkouts succeed" if self.sli == "checkout_availability" else "browsing works"
        return f"{pct} of {what}"


@dataclass(frozen=True)
class BurnTier:
    """One multiwindow burn-rate alert tier (production windows, in seconds)."""

    name: str
    severity: str  # page | ticket
    burn_rate: float
    long_s: float
    short_s: float
    for_s: float = 0.0

    def windows(self, factor: float) -> tuple[float, float, float]:
        """(long, short, for) in rehearsal seconds for a scale factor."""
        long_s = max(MIN_WINDOW_S, self.long_s / factor)
        short_s = max(MIN_WINDOW_S, self.short_s / factor)
        return long_s, short_s, self.for_s / factor


TIERS = (
    BurnTier("fast_burn", "page", 14.4, 3600, 300),
    BurnTier("slow_burn", "page", 6.0, 6 * 3600, 1800),
    BurnTier("budget_burn", "ticket", 1.0, 3 * 86400, 6 * 3600),
)


@dataclass(frozen=True)
class BusinessAlert:
    """A business invariant watched from counters: `numerator` out of proportion to
    `denominator` over a window (or a level above a bound), owned by the service whose code
    decides it."""

    name: str
    owner: str
    summary: str
    numerator: str  # a key of verdict.names.BUSINESS
    denominator: str | None  # None: a level (gauge) or a count alone
    factor: float  # fires when numerator > factor x denominator + floor
    floor: float
    window_s: float  # production seconds (scaled like the burn-rate windows)
    severity: str = "page"
    level_scaled: bool = False  # the floor is itself seconds of production time (ages)


BUSINESS_ALERTS = (
    BusinessAlert(
        "gift_alerts_out_of_proportion",
        "notifications",
        "gift alert mails far outnumber gift purchases: mail is reaching the wrong people",
        "gift_alert_mails",
        "gift_purchases",
        factor=5.0,
        floor=5.0,
        window_s=600,
    ),
    BusinessAlert(
        "orders_charged_twice",
        "checkout",
        "orders paid for twice: a second authorization and capture for an order already paid",
        "orders_charged_twice",
        None,
        factor=0.0,
        floor=0.0,
        window_s=0,
    ),
    BusinessAlert(
        "declines_out_of_proportion",
        "payment",
        "a large share of card authorizations is declined",
        "authorizations_declined",
        "authorizations",
        factor=0.2,
        floor=2.0,
        window_s=600,
    ),
    BusinessAlert(
        "stock_oversold",
        "inventory",
        "more units are promised than are in stock",
        "oversold_units",
        None,
        factor=0.0,
        floor=0.0,
        window_s=0,
    ),
    BusinessAlert(
        "outbox_stalled",
        "notifications",
        "the oldest queued mail has waited far too long: mail is not going out",
        "outbox_oldest_age_s",
        None,
        factor=0.0,
        floor=600.0,
        window_s=0,
        level_scaled=True,
    ),
)


def slos_of(scenario: Any) -> list[Slo]:
    """The scenario's SLOs (every scenario has all three; defaults fill what it leaves out)."""
    slos = scenario.slos
    latency = slos.checkout_latency
    return [
        Slo("checkout_availability", slos.checkout_availability, "checkout_availability"),
        Slo("checkout_latency", latency.target, "checkout_latency", latency.threshold_s),
        Slo("browse_availability", slos.browse_availability, "browse_availability"),
    ]


def factor_for(time_scale: float) -> float:
    """Production seconds per rehearsal second for a run at `time_scale`."""
    return REHEARSAL_FACTOR * time_scale
