"""One step's scenario: the original's mix, store, resilience and SLOs at one steady rate.

The variant keeps what shapes the store and how it is judged (load.mix, load.max_in_flight,
store, resilience.initial, slos, seed) and drops what a capacity step must not have: the
original stages (one stage at the step's rate instead), faults, resilience changes,
expectations, stop conditions and status-page posting. It is written as a YAML file beside the
step's run and loaded through the ordinary scenario loader, so every step is a scenario a user
can run again with `shopsim gameday FILE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shopsim.gameday.loader import ScenarioError, load_scenario
from shopsim.gameday.scenario import Scenario

KEPT_LOAD = ("mix", "max_in_flight")


class CapacityError(ValueError):
    """The scenario cannot be searched; the message names what is wrong."""


def rates_of(scenario: Scenario) -> tuple[float, float]:
    """(start, peak): the scenario's first positive stage rate and its highest one."""
    if scenario.load.model != "open":
        raise CapacityError(
            f"{scenario.name}: load.model is {scenario.load.model!r}; capacity searches an "
            "arrival rate, so it needs an open-model scenario (load.model: open)"
        )
    rates = [s.rate for s in scenario.load.stages if s.rate]
    if not rates:
        raise CapacityError(f"{scenario.name}: load.stages: no stage has a positive rate")
    return rates[0], max(rates)


def raw_of(path: Path) -> dict[str, Any]:
    """The scenario file as plain data (it has been validated by load_scenario already)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise CapacityError(f"{path}: not a mapping")
    return data


def variant(raw: dict[str, Any], rate: float, duration_s: float, seed: int) -> dict[str, Any]:
    """The step's scenario as plain data."""
    load = raw.get("load") or {}
    out: dict[str, Any] = {
        "name": f"{raw['name'][:40]}-at-{rate:g}".replace(".", "p"),
        "summary": f"capacity step: {raw['name']} at a steady {rate:g} arrivals/s, no faults",
        "description": f"One step of `shopsim capacity {raw['name']}`: the scenario's journey "
        f"mix, store and SLOs at a steady {rate:g} arrivals per second for {duration_s:g}s, "
        "with no faults.",
        "seed": seed,
        "duration": f"{duration_s:g}s",
        "load": {
            "model": "open",
            "stages": [{"duration": f"{duration_s:g}s", "rate": rate}],
        }
        | {k: load[k] for k in KEPT_LOAD if k in load},
    }
    for key in ("store", "slos"):
        if raw.get(key):
            out[key] = raw[key]
    initial = (raw.get("resilience") or {}).get("initial")
    if initial:
        out["resilience"] = {"initial": initial}
    return out


def write_variant(data: dict[str, Any], path: Path) -> Scenario:
    """Write the step's scenario and load it back through the scenario loader."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        return load_scenario(path)
    except ScenarioError as err:  # a variant of a valid scenario: a bug here, said plainly
        raise CapacityError(f"the step's scenario is not valid: {err}") from err
