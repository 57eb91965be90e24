"""METRICS.md, generated from the catalogue: ``python -m shopsim.metrics.doc`` rewrites it,
``python -m shopsim.metrics.doc --check`` exits 1 when it is stale (the suite runs the check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shopsim.metrics.catalogue import SECTIONS, business, common
from shopsim.metrics.catalogue.values import LABELS, LOAD, SERVICES
from shopsim.metrics.definition import Metric

PATH = Path(__file__).parent / "METRICS.md"


def _sources(metric: Metric[Any]) -> str:
    if metric.sources == (LOAD,):
        return "load generator"
    if metric.sources == SERVICES:
        return "every service"
    return ", ".join(metric.sources)


def _labels(metric: Metric[Any]) -> str:
    out = []
    for label in metric.labels:
        values = metric.values.get(label)
        out.append(f"`{label}`" + (f" ({', '.join(values)})" if values else ""))
    return ", ".join(out) or "-"


def _meaning(metric: Metric[Any]) -> str:
    notes = [metric.help]
    if metric.appears:
        notes.append(f"Appears {metric.appears}.")
    return " ".join(notes).replace("|", "\\|")


def _section(title: str, metrics: tuple[Metric[Any], ...]) -> list[str]:
    lines = [f"## {title}", "", "| metric | type | unit | labels | exported by | meaning |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for m in metrics:
        cells = (f"`{m.name}`", m.type, m.unit or "-", _labels(m), _sources(m), _meaning(m))
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _buckets() -> list[str]:
    lines = ["## Histogram buckets", ""]
    seen: dict[tuple[float, ...], list[str]] = {}
    for _, metrics in SECTIONS:
        for m in metrics:
            if m.buckets:
                seen.setdefault(m.buckets, []).append(f"`{m.name}`")
    for buckets, names in seen.items():
        bounds = ", ".join(f"{b:g}" for b in buckets)
        lines.append(f"- {bounds} (seconds, and +Inf): {', '.join(names)}")
    return [*lines, ""]


def _glossary() -> list[str]:
    lines = ["## Labels", "", "| label | meaning |", "| --- | --- |"]
    lines += [f"| `{label}` | {meaning} |" for label, meaning in sorted(LABELS.items())]
    return [*lines, ""]


def _reading() -> list[str]:
    call = common.DEPENDENCY_CALL_DURATION
    return [
        "## Reading them together",
        "",
        f"- A service's own time per request: `{common.HTTP_DURATION.name}` (its server time) "
        f"minus `{call.name}` (whole calls to its dependencies, every attempt, backoff and "
        "refusal included). Queueing on an edge: the caller's "
        f"`{common.DEPENDENCY_DURATION.name}` minus the callee's server time.",
        f"- Where 5xx come from: `{common.HTTP_SERVER_ERRORS.name}` by `cause`; "
        "`own` and `overload` originate in the service, `dependency` passed a failure up.",
        f'- Captures by result: `{business.PAYMENT_OPERATIONS_DONE.name}{{operation="capture"}}` '
        "(approved = a ledger row; replays of a key are apart). More approved captures than "
        f'`{business.CHECKOUT_ORDERS.name}{{outcome="confirmed"}}` is a duplicate charge.',
        f"- Oversell: `{business.UNITS_OVERSOLD.name}` above 0.",
        "",
    ]


def render() -> str:
    """The whole document."""
    lines = [
        "# Metrics",
        "",
        "<!-- Generated from shopsim/metrics/catalogue/ by `python -m shopsim.metrics.doc`."
        " Edit the catalogue, not this file. -->",
        "",
        "Every service serves `/metrics` from its own registry (and on its operator side port);",
        "each load-generator process serves its own on the plan's `metrics_port` (worker k on",
        "`metrics_port + 1 + k`). Names follow Prometheus conventions and pass",
        "`promtool check metrics`: the `shopsim_` prefix, base units, counters ending `_total`,",
        "route templates rather than raw paths, and never a customer, order, cart or registry ID",
        "in a label. Series whose labels take fixed values exist at zero from the start.",
        "",
    ]
    for title, metrics in SECTIONS:
        lines += _section(title, metrics)
    lines += _buckets() + _glossary() + _reading()
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write METRICS.md, or with --check say whether it is current."""
    parser = argparse.ArgumentParser(description="Generate METRICS.md from the metric catalogue.")
    parser.add_argument("--check", action="store_true", help="exit 1 if METRICS.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not PATH.exists() or PATH.read_text() != text:
            print(f"{PATH} is stale: run python -m shopsim.metrics.doc", file=sys.stderr)
            return 1
        return 0
    PATH.write_text(text)
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
