"""What the run cost customers, as the report states it: failures as the load generator counted
them, money and people from the store's own data (impact_db.py), and the p95s customers and
services saw."""

from __future__ import annotations

import math
from typing import Any

from shopsim.verdict.arith import known, quantile
from shopsim.verdict.impact_db import ImpactFacts
from shopsim.verdict.series import Series


def rounded(value: float | None, digits: int = 3) -> float | None:
    """`value` rounded for report.json; None for a missing one (or NaN)."""
    return None if value is None or math.isnan(value) else round(value, digits)


def impact_of(series: Series, db: ImpactFacts | None) -> dict[str, Any]:
    """The report's `impact` block."""
    failed_checkouts = sum(known(series.checkout_bad))
    return {  # failures as customers counted them; money and people from the data
        "failed_checkouts": int(failed_checkouts),
        "error_pages": int(sum(known(series.error_pages))),
        "revenue_lost": None if db is None else _lost(db),
        "affected_customers": affected_customers(series, db),
        "wrong_recipients": None if db is None else db.wrong_mail_recipients,
        "wrong_mails": None if db is None else db.wrong_mails,
        "overcharged_customers": None if db is None else db.overcharged_customers,
        "overcharged_dollars": None if db is None else db.overcharged_dollars,
        "oversold_units": None if db is None else db.oversold_units,
        "failed_checkouts_reaching_checkout": None if db is None else db.failed_checkouts,
        "failed_by_reason": None if db is None else db.failed_by_reason,
        "unpriced_failed_checkouts": None if db is None else db.unpriced_failures,
        "confirmed_orders": None if db is None else db.confirmed_orders,
        "revenue": None if db is None else db.revenue_dollars,
        "checkout_p95_s": rounded(_customer_p95(series)),
    }


def _customer_p95(series: Series) -> float | None:
    buckets = {le: sum(known(v)) for le, v in series.checkout_latency.buckets.items()}
    return quantile(0.95, buckets)


def service_p95(series: Series) -> dict[str, float | None]:
    """Each service's p95 server time over the whole run (what `shopsim compare` lines up)."""
    out = {}
    for name, svc in series.services.items():
        buckets = {le: sum(known(v)) for le, v in svc.latency.buckets.items()}
        out[name] = rounded(quantile(0.95, buckets), 4)
    return out


def _lost(db: ImpactFacts) -> float | None:
    """Failed baskets' value: priced orders, plus the estimate for those never priced."""
    if db.revenue_lost_dollars is None:
        return None
    return round(db.revenue_lost_dollars + (db.unpriced_estimate_dollars or 0.0), 2)


def affected_customers(series: Series, db: ImpactFacts | None) -> int | None:
    """Distinct customers hurt: those the load generator saw a journey fail for (those turned
    away before checkout too, whom no database row records), or, if more, those with a failed
    checkout in checkout's data."""
    seen = [v for v in series.customers_hurt if v is not None]
    counts = [int(seen[-1])] if seen else []
    if db is not None and db.customers_affected is not None:
        counts.append(db.customers_affected)
    return max(counts, default=None)
