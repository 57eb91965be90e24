"""The matrix as a terminal table, JSON and a small self-contained HTML page."""

from __future__ import annotations

import html
from typing import Any

from shopsim.matrix.cells import Cell
from shopsim.matrix.journeys import JOURNEYS

MARK = {"works": "ok", "degrades": "DEGR", "breaks": "BREAK"}
COLOUR = {"works": "#c8e6c9", "degrades": "#fff3b0", "breaks": "#ffcdd2"}


def to_json(cells: list[Cell], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything the matrix found, as plain data."""
    return meta | {"journeys": list(JOURNEYS), "cells": [c.to_json() for c in cells]}


def table(cells: list[Cell]) -> str:
    """One line per dependency and kind, one column per journey."""
    head = f"{'dependency':<14} {'kind':<7} " + " ".join(f"{j:<11}" for j in JOURNEYS)
    lines = [head + " whole after", "-" * (len(head) + 12)]
    for c in cells:
        marks = " ".join(f"{MARK[c.verdicts[j].state]:<11}" for j in JOURNEYS)
        back = "NO" if c.recovered_s is None else f"{c.recovered_s:.0f}s"
        lines.append(f"{c.dependency:<14} {c.kind:<7} {marks} {back}")
    return "\n".join(lines)


def evidence(cells: list[Cell]) -> str:
    """Every journey that did not simply work, with its evidence."""
    out = []
    for c in cells:
        for j in JOURNEYS:
            v = c.verdicts[j]
            if v.state != "works":
                out.append(f"  {c.dependency} {c.kind}: {j} {v.state}: {v.evidence}")
    return "\n".join(out)


def page(cells: list[Cell], meta: dict[str, Any]) -> str:
    """A self-contained HTML page: the matrix, evidence on hover and listed below."""
    esc = html.escape
    rows = []
    for c in cells:
        tds = "".join(
            f'<td style="background:{COLOUR[v.state]}" title="{esc(v.evidence)}">{v.state}</td>'
            for v in (c.verdicts[j] for j in JOURNEYS)
        )
        rows.append(
            f"<tr><th>{esc(c.dependency)}</th><td>{c.kind}</td>{tds}"
            f"<td>{'no' if c.recovered_s is None else f'{c.recovered_s:.1f} s'}</td></tr>"
        )
    notes = "".join(
        f"<li><b>{esc(c.dependency)} {c.kind}, {j}</b>: {esc(c.verdicts[j].state)}, "
        f"{esc(c.verdicts[j].evidence)}</li>"
        for c in cells
        for j in JOURNEYS
    )
    heads = "".join(f"<th>{j}</th>" for j in JOURNEYS)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>shopsim resiliency matrix"
        "</title><style>body{font-family:sans-serif}td,th{border:1px solid #999;padding:4px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>Resiliency matrix</h1><p>{esc(str(meta.get('summary', '')))}</p>"
        f"<table><tr><th>dependency</th><th>kind</th>{heads}<th>whole again after</th></tr>"
        f"{''.join(rows)}</table><h2>Evidence</h2><ul>{notes}</ul></body></html>"
    )
