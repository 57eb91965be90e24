"""PromQL for the SLIs and business signals of `verdict/slo.py`, from the metric catalogue."""

from __future__ import annotations

from prometheus_client.utils import floatToGoString

from shopsim.verdict import names as N
from shopsim.verdict.slo import Slo


def duration(seconds: float) -> str:
    """A Prometheus duration: 1h, 90s, 3750ms."""
    ms = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def selector(name: str, match: dict[str, str], regex: dict[str, str] | None = None) -> str:
    """name{a="x",b=~"y|z"}."""
    parts = [f'{k}="{v}"' for k, v in match.items()]
    parts += [f'{k}=~"{v}"' for k, v in (regex or {}).items()]
    return f"{name}{{{','.join(parts)}}}" if parts else name


def _zero(expr: str) -> str:
    return f"({expr} or vector(0))"


def sli_error_ratio(slo: Slo, window: str) -> str:
    """The bad share of an SLO's events over a trailing window (NaN when there were none)."""
    if slo.sli == "checkout_availability":
        bad = selector(N.LOAD_CHECKOUTS, {}, {"result": "|".join(N.CHECKOUT_BAD)})
        return f"{_zero(f'sum(rate({bad}[{window}]))')}\n/\nsum(rate({N.LOAD_CHECKOUTS}[{window}]))"
    if slo.sli == "browse_availability":
        flows = {"flow": "|".join(N.BROWSE_FLOWS)}
        all_ = selector(N.LOAD_REQUESTS, {}, flows)
        bad = all_[:-1] + ',result!="ok"}'
        return f"{_zero(f'sum(rate({bad}[{window}]))')}\n/\nsum(rate({all_}[{window}]))"
    # latency: orders answered above the threshold (a bucket bound)
    orders = {"method": "POST"}, {"flow": "checkout|gift"}
    le = floatToGoString(slo.threshold_s or 0.0)
    total = selector(f"{N.LOAD_DURATION}_bucket", {**orders[0], "le": "+Inf"}, orders[1])
    within = selector(f"{N.LOAD_DURATION}_bucket", {**orders[0], "le": le}, orders[1])
    return (
        f"(sum(rate({total}[{window}])) - sum(rate({within}[{window}])))\n/\n"
        f"sum(rate({total}[{window}]))"
    )


def business_sum(key: str, window: str | None) -> str:
    """A business counter's increase over a window, or a gauge's sum over sources."""
    kind, name, match = N.BUSINESS[key]
    sel = selector(name, match)
    if kind == "gauge":
        return f"sum({sel})"
    return f"sum(increase({sel}[{window}]))"
