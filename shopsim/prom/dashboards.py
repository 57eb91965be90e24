"""The shopsim dashboards: overview (RED per service), checkout, saturation, SLO, and business &
integrity. Queries come from the metric catalogue's names; SLO panels read the recording rules
of `rules.py` whatever their scale (`shopsim:slo_burn_rate:rate<window>`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shopsim.metrics.catalogue import business as b
from shopsim.metrics.catalogue import common as c
from shopsim.metrics.catalogue import load as ld
from shopsim.prom.panels import RATE, dashboard, panel
from shopsim.prom.promql import sli_error_ratio
from shopsim.prom.rules import default_slos
from shopsim.verdict.slo import TIERS

REQ = c.HTTP_REQUESTS.name
BY_SERVICE = "sum by (service)"


def _rate(sel: str, by: str = "sum") -> str:
    return f"{by} (rate({sel}[{RATE}]))"


def _or_zero(expr: str, like: str) -> str:
    """A sparse series (it appears with the first event) or zero for every series of `like`."""
    return f"({expr}) or ({like} * 0)"


def _p(q: float, metric: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket[{RATE}])))"


def overview() -> dict[str, Any]:
    """RED per service."""
    all_ = _rate(REQ, BY_SERVICE)
    errors = _rate(f'{REQ}{{status=~"5.."}}', BY_SERVICE)
    return dashboard(
        "shopsim-overview",
        "shopsim / overview (RED)",
        [
            panel("Requests per second", [(all_, "{{service}}")], "reqps"),
            panel(
                "5xx share", [(_or_zero(f"{errors} / {all_}", all_), "{{service}}")], "percentunit"
            ),
            panel("p95 latency", [(_p(0.95, c.HTTP_DURATION.name, "service"), "{{service}}")], "s"),
            panel("p50 latency", [(_p(0.5, c.HTTP_DURATION.name, "service"), "{{service}}")], "s"),
            panel(
                "5xx by cause",
                [
                    (
                        _or_zero(_rate(c.HTTP_SERVER_ERRORS.name, "sum by (service, cause)"), all_),
                        "{{service}} {{cause}}",
                    )
                ],
                "reqps",
            ),
            panel("Targets up", [("up", "{{job}} {{source}}")]),
        ],
    )


def checkout() -> dict[str, Any]:
    """The checkout funnel, steps, outcomes and error pages."""
    return dashboard(
        "shopsim-checkout",
        "shopsim / checkout",
        [
            panel(
                "Customer requests by flow",
                [(_rate(ld.LOAD_REQUESTS.name, "sum by (flow)"), "{{flow}}")],
                "reqps",
            ),
            panel(
                "Orders placed by result (customer side)",
                [(_rate(ld.LOAD_CHECKOUTS.name, "sum by (result)"), "{{result}}")],
                "reqps",
            ),
            panel(
                "Checkout answers by outcome",
                [(_rate(b.CHECKOUT_ORDERS.name, "sum by (outcome)"), "{{outcome}}")],
                "reqps",
            ),
            panel(
                "Saga step p95",
                [(_p(0.95, b.CHECKOUT_STEP_DURATION.name, "step"), "{{step}}")],
                "s",
            ),
            panel(
                "Checkout's calls by dependency and outcome",
                [
                    (
                        _rate(
                            f'{c.DEPENDENCY_REQUESTS.name}{{service="checkout"}}',
                            "sum by (dependency, outcome)",
                        ),
                        "{{dependency}} {{outcome}}",
                    )
                ],
                "reqps",
            ),
            panel(
                "Error pages shown",
                [(_rate(b.ERROR_PAGES_SHOWN.name, "sum by (page)"), "{{page}}")],
                "reqps",
            ),
            panel(
                "Order latency p95 (customer side)",
                [(_p(0.95, f"{ld.LOAD_DURATION.name}", "flow"), "{{flow}}")],
                "s",
            ),
            panel(
                "Orders in flight (customer side)",
                [(f"sum({ld.LOAD_CHECKOUTS_IN_FLIGHT.name})", "in flight")],
            ),
        ],
    )


def saturation() -> dict[str, Any]:
    """Threads, in-flight, pool waits, breakers, outbox depth and age."""
    return dashboard(
        "shopsim-saturation",
        "shopsim / saturation",
        [
            panel(
                "Busy worker threads / capacity",
                [
                    (
                        f"{BY_SERVICE} ({c.THREADS_BUSY.name}) / {BY_SERVICE} ({c.THREADS.name})",
                        "{{service}}",
                    )
                ],
                "percentunit",
                thresholds=[0.9],
            ),
            panel("Requests in flight", [(f"{BY_SERVICE} ({c.IN_FLIGHT.name})", "{{service}}")]),
            panel(
                "DB pool wait p95", [(_p(0.95, c.DB_POOL_WAIT.name, "service"), "{{service}}")], "s"
            ),
            panel(
                "Refused by admission control",
                [(_rate(c.REJECTED.name, BY_SERVICE), "{{service}}")],
                "reqps",
            ),
            panel(
                "Open circuit breakers",
                [
                    (
                        f"sum by (service, dependency) ({c.BREAKER_OPEN.name})",
                        "{{service}} -> {{dependency}}",
                    )
                ],
            ),
            panel(
                "Retries",
                [
                    (
                        _rate(c.DEPENDENCY_RETRIES.name, "sum by (service, dependency)"),
                        "{{service}} -> {{dependency}}",
                    )
                ],
                "reqps",
            ),
            panel("Outbox depth", [(f"sum({b.OUTBOX_DEPTH.name})", "queued")]),
            panel("Outbox oldest message age", [(f"max({b.OUTBOX_OLDEST_AGE.name})", "age")], "s"),
            panel(
                "Load generator CPU",
                [(f"max({ld.LOAD_CPU.name})", "cpu %")],
                "percent",
                thresholds=[90],
            ),
        ],
    )


def slo() -> dict[str, Any]:
    """Availability, budget and burn rates against the tiers' thresholds."""
    panels = []
    for s in default_slos():
        ratio = sli_error_ratio(s, "$__range").replace("\n", " ")
        panels.append(
            panel(
                f"{s.describe()}: achieved over the range",
                [(f"1 - ({ratio})", "achieved")],
                "percentunit",
                thresholds=[s.objective],
            )
        )
        panels.append(
            panel(
                f"{s.name}: error budget left over the range",
                [(f"1 - ({ratio}) / {s.budget:.6g}", "budget left")],
                "percentunit",
                thresholds=[0],
            )
        )
        panels.append(
            panel(
                f"{s.name}: burn rate",
                [(f'{{__name__=~"shopsim:slo_burn_rate:rate.+",slo="{s.name}"}}', "{{__name__}}")],
                thresholds=sorted({t.burn_rate for t in TIERS}),
                width=24,
            )
        )
    panels.append(
        panel(
            "Firing alerts",
            [('sum by (alertname) (ALERTS{alertstate="firing"})', "{{alertname}}")],
            width=24,
        )
    )
    return dashboard("shopsim-slo", "shopsim / SLOs and burn rates", panels)


def business() -> dict[str, Any]:
    """Orders, revenue, gift alerts against gift purchases, money and stock integrity, mail."""
    pay = b.PAYMENT_OPERATIONS_DONE.name
    return dashboard(
        "shopsim-business",
        "shopsim / business & integrity",
        [
            panel(
                "Confirmed orders per second",
                [(_rate(f'{b.CHECKOUT_ORDERS.name}{{outcome="confirmed"}}'), "confirmed")],
                "reqps",
            ),
            panel(
                "Revenue per second", [(_rate(b.CHECKOUT_REVENUE.name), "revenue")], "currencyUSD"
            ),
            panel(
                "Gift alert mails vs gift purchases",
                [
                    (_rate(f'{b.MAIL_SENT.name}{{template="gift_alert"}}'), "gift alert mails"),
                    (f"{_rate(b.GIFT_PURCHASES.name)} or vector(0)", "gift purchases"),
                ],
                "reqps",
            ),
            panel(
                "Mail sent by template",
                [(_rate(b.MAIL_SENT.name, "sum by (template)"), "{{template}}")],
                "reqps",
            ),
            panel(
                "Approved captures vs confirmed orders",
                [
                    (_rate(f'{pay}{{operation="capture",outcome="approved"}}'), "captures"),
                    (_rate(f'{b.CHECKOUT_ORDERS.name}{{outcome="confirmed"}}'), "confirmed orders"),
                ],
                "reqps",
            ),
            panel(
                "Card authorizations by outcome",
                [(_rate(f'{pay}{{operation="authorize"}}', "sum by (outcome)"), "{{outcome}}")],
                "reqps",
            ),
            panel(
                "Orders charged twice",
                [(f"sum({b.PAYMENT_REFERENCES_CHARGED_TWICE.name})", "orders")],
                thresholds=[1],
            ),
            panel("Units oversold", [(f"sum({b.UNITS_OVERSOLD.name})", "units")], thresholds=[1]),
        ],
    )


DASHBOARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "overview": overview,
    "checkout": checkout,
    "saturation": saturation,
    "slo": slo,
    "business": business,
}
