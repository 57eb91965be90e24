"""The report's plots: matplotlib (Agg) figures rendered to inline SVG strings.

Every plot shares the run's clock (seconds since the load started), shades every injected fault
window and marks every alert firing, so a reader can line up cause, symptom and alarm by eye.
Text stays text in the SVG (``svg.fonttype = none``): the browser draws it with its own fonts,
which keeps the file small and free of embedded or fetched fonts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from shopsim.verdict.alerts import burn_rate  # noqa: E402
from shopsim.verdict.arith import Values, quantile  # noqa: E402
from shopsim.verdict.series import Histo, Series  # noqa: E402
from shopsim.verdict.slo import TIERS, Slo  # noqa: E402

if TYPE_CHECKING:  # newer than the oldest matplotlib we take; the annotation is never run
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 7,
    "legend.frameon": False,
}
ALERT_COLOURS = {"page": "#c0392b", "ticket": "#e67e22"}
FAULT_COLOUR = "#f5b7b1"
WIDTH_IN = 11.0


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None, "Format": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.find("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", text, count=1)


def _mark(ax: Axes, report: dict[str, Any], end_s: float) -> None:
    """Shade every fault window and draw a line at every alert firing."""
    for f in report.get("faults") or []:
        stop = f["end_s"] if f["end_s"] is not None else end_s
        ax.axvspan(f["start_s"], stop, color=FAULT_COLOUR, alpha=0.45, lw=0, zorder=0)
    for a in report.get("alerts") or []:
        colour = ALERT_COLOURS.get(a["severity"], "#7f8c8d")
        ax.axvline(a["fired_at_s"], color=colour, ls="--", lw=0.9, zorder=1)


def _legend_keys(ax: Axes, report: dict[str, Any]) -> None:
    """Legend entries for the shading and the alert lines (once per figure)."""
    if report.get("faults"):
        ax.axvspan(0, 0, color=FAULT_COLOUR, alpha=0.45, lw=0, label="fault injected")
    severities = {a["severity"] for a in report.get("alerts") or []}
    for sev in sorted(severities):
        ax.axvline(
            -1e9, color=ALERT_COLOURS.get(sev, "#7f8c8d"), ls="--", lw=0.9, label=f"{sev} fired"
        )


def _figure(
    report: dict[str, Any], t: list[float], panels: list[tuple[str, Callable[[Axes], None]]]
) -> str:
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            len(panels), 1, figsize=(WIDTH_IN, 2.3 * len(panels)), sharex=True, squeeze=False
        )
        end = t[-1] if t else 1.0
        for (title, draw), ax in zip(panels, axes[:, 0], strict=True):
            draw(ax)
            _mark(ax, report, end)
            ax.set_title(title, loc="left", fontsize=10)
            ax.set_xlim(0, end)
        _legend_keys(axes[0, 0], report)
        for ax in axes[:, 0]:
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axes[-1, 0].set_xlabel("seconds since the load started")
        # the same margins in every figure, so the time axes line up down the page
        fig.subplots_adjust(
            left=0.07,
            right=0.82,
            top=1 - 0.35 / fig.get_figheight(),
            bottom=0.5 / fig.get_figheight(),
            hspace=0.45,
        )
        return _svg(fig)


def _y(values: Values) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _ratio(num: Values, den: Values) -> list[float]:
    out = []
    for n, d in zip(num, den, strict=True):
        out.append(float("nan") if n is None or d is None or d <= 0 else n / d)
    return out


def _quantiles(h: Histo, q: float, n: int) -> list[float]:
    out = []
    for i in range(n):
        buckets = {le: float(x) for le, v in h.buckets.items() if (x := v[i]) is not None}
        found = quantile(q, buckets) if buckets else None
        out.append(float("nan") if found is None else found)
    return out


def traffic(series: Series, report: dict[str, Any]) -> str:
    """Offered arrivals and completed requests; checkout success ratio."""
    t = series.t

    def load(ax: Axes) -> None:
        ax.plot(t, _y(series.arrivals), label="offered arrivals/s (new visits)", color="#2c3e50")
        ax.plot(t, _y(series.load_latency.count), label="completed requests/s", color="#27ae60")
        ax.plot(t, _y(series.dropped), label="dropped arrivals/s", color="#8e44ad", lw=0.8)

    def checkout(ax: Axes) -> None:
        total = [
            None if g is None and b is None else (g or 0) + (b or 0)
            for g, b in zip(series.checkout_good, series.checkout_bad, strict=True)
        ]
        ax.plot(t, _ratio(series.checkout_good, total), color="#2980b9", label="succeeded")
        ax.set_ylim(-0.05, 1.05)

    return _figure(
        report,
        t,
        [("Load: offered vs completed", load), ("Checkout success ratio (per second)", checkout)],
    )


def latency(series: Series, report: dict[str, Any]) -> str:
    """p50, p95 and p99 server time per service (log scale)."""
    n = len(series)
    panels: list[tuple[str, Callable[[Axes], None]]] = []
    for q in (0.5, 0.95, 0.99):

        def draw(ax: Axes, q: float = q) -> None:
            for name, svc in series.services.items():
                ax.plot(series.t, _quantiles(svc.latency, q, n), label=name, lw=1)
            ax.set_yscale("log")
            ax.set_ylabel("seconds")

        panels.append((f"p{round(q * 100)} server time per service", draw))
    return _figure(report, series.t, panels)


def burn(series: Series, report: dict[str, Any], slos: list[Slo], factor: float) -> str:
    """Each page tier's burn rate (the smaller of its two windows) against its threshold."""
    panels: list[tuple[str, Callable[[Axes], None]]] = []
    for tier in [t for t in TIERS if t.severity == "page"]:
        long_s, short_s, _ = tier.windows(factor)

        def draw(
            ax: Axes, tier: Any = tier, long_s: float = long_s, short_s: float = short_s
        ) -> None:
            for slo in slos:
                lb, sb = burn_rate(series, slo, long_s), burn_rate(series, slo, short_s)
                size = [
                    float("nan") if a is None or b is None else min(a, b)
                    for a, b in zip(lb, sb, strict=True)
                ]
                ax.plot(series.t, size, label=slo.name, lw=1)
            ax.axhline(tier.burn_rate, color="#c0392b", lw=1, ls=":", label="threshold")
            ax.set_yscale("symlog", linthresh=1.0)
            ax.set_ylabel("x budget")

        title = f"{tier.name} burn rate (windows {long_s:g}s / {short_s:g}s, > {tier.burn_rate:g})"
        panels.append((title, draw))
    return _figure(report, series.t, panels)


def queue_wait(series: Series, name: str) -> list[float]:
    """Per round: how much longer callers' calls to `name` took than `name` says it served
    them for (time spent queueing for a worker, or on the wire), seconds per call."""
    into = [e for (_, callee), e in series.edges.items() if callee == name]
    svc = series.services[name]
    out = []
    for i in range(len(series)):
        attempts = sum(e.attempts[i] or 0.0 for e in into)
        spent = sum(e.attempt_time[i] or 0.0 for e in into)
        count, total = svc.latency.count[i], svc.latency.sum[i]
        if not attempts or not count or total is None:
            out.append(float("nan"))
        else:
            out.append(max(0.0, spent / attempts - total / count))
    return out


def saturation(series: Series, report: dict[str, Any]) -> str:
    """Busy worker threads (share), requests in flight, queueing per service; waiting customers."""

    def busy(ax: Axes) -> None:
        for name, svc in series.services.items():
            threads = svc.threads or 0
            share = [float("nan") if v is None or not threads else v / threads for v in svc.busy]
            ax.plot(series.t, share, label=name, lw=1)
        ax.set_ylim(-0.05, 1.05)

    def flight(ax: Axes) -> None:
        for name, svc in series.services.items():
            ax.plot(series.t, _y(svc.in_flight), label=name, lw=1)

    def queue(ax: Axes) -> None:
        for name in series.services:
            ax.plot(series.t, queue_wait(series, name), label=name, lw=1)
        ax.set_ylabel("seconds")

    def waiting(ax: Axes) -> None:
        ax.plot(series.t, _y(series.checkouts_in_flight), label="customers' open checkouts")
        rejected = [
            sum(v for v in col if v is not None) if any(v is not None for v in col) else None
            for col in zip(*(svc.rejected for svc in series.services.values()), strict=True)
        ]
        ax.plot(series.t, _y(rejected), label="requests refused (overload)/s")

    return _figure(
        report,
        series.t,
        [
            ("Worker threads busy (share of the pool)", busy),
            ("Requests in flight", flight),
            ("Queueing: callers' wait beyond the service's own time, per call", queue),
            ("Customers waiting; requests refused", waiting),
        ],
    )


def business(series: Series, report: dict[str, Any]) -> str:
    """Orders, revenue, and gift-alert mails against gift purchases."""
    b = series.business
    none: Values = [None] * len(series)

    def orders(ax: Axes) -> None:
        for key, colour in (
            ("orders_confirmed", "#27ae60"),
            ("orders_failed", "#c0392b"),
            ("orders_declined", "#f39c12"),
        ):
            ax.plot(series.t, _y(b.get(key, none)), label=key.replace("_", " "), color=colour)

    def revenue(ax: Axes) -> None:
        ax.plot(series.t, _y(b.get("revenue_dollars", none)), label="revenue $/s", color="#16a085")

    def gifts(ax: Axes) -> None:
        ax.plot(series.t, _y(b.get("gift_purchases", none)), label="gift purchases/s", lw=1.2)
        ax.plot(series.t, _y(b.get("gift_alert_mails", none)), label="gift alert mails/s", lw=1.2)

    return _figure(
        report,
        series.t,
        [
            ("Orders per second", orders),
            ("Revenue", revenue),
            ("Gift alerts vs gift purchases", gifts),
        ],
    )
