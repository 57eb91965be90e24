"""The load plan: what the orchestrator asks of the load process, read from SHOPSIM_LOAD_PLAN.

``shopsim gameday`` passes the plan as JSON in the environment (times already divided by the
time scale)::

    {"model": "open", "stages": [{"duration_s": 20, "target": 5},
                                 {"duration_s": 3, "target": 40, "ramp": true}],
     "mix": {"browser": 70, "shopper": 25, "gift_buyer": 5}, "seed": 7, "customers": 200,
     "metrics_port": 9646, "max_in_flight": 2000, "time_scale": 1.0}

Without it the locustfile runs on its own: a closed model steered from the web UI, or a named
shape (SHOPSIM_SHAPE), with SHOPSIM_LOAD_MODEL and SHOPSIM_LOAD_METRICS_PORT as the only knobs.
Every mistake is a `PlanError` naming the field; no Locust import here.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .schedule import Stage, total_s

PLAN_ENV = "SHOPSIM_LOAD_PLAN"
MODEL_ENV = "SHOPSIM_LOAD_MODEL"
METRICS_PORT_ENV = "SHOPSIM_LOAD_METRICS_PORT"
MODELS = ("open", "closed")
JOURNEYS = ("browser", "shopper", "gift_buyer")
DEFAULT_MIX: Mapping[str, float] = {"browser": 70, "shopper": 25, "gift_buyer": 5}
KEYS = {"model", "stages", "mix", "seed", "customers", "metrics_port", "max_in_flight"}
KEYS |= {"time_scale"}
STAGE_KEYS = {"duration_s", "target", "ramp"}
MAX_RATE = 100_000  # arrivals/s or users: far beyond one machine, still catches unit mix-ups


class PlanError(ValueError):
    """The plan (or the host) cannot be used; the message names the field."""


@dataclass(frozen=True)
class Plan:
    """A validated load plan. `stages` is empty when no plan was given (web UI or named shape)."""

    model: str = "closed"
    stages: tuple[Stage, ...] = ()
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    seed: int = 1
    customers: int = 200
    metrics_port: int | None = None
    max_in_flight: int = 2000
    time_scale: float = 1.0

    @property
    def duration_s(self) -> float:
        """How long the stages last (0 without stages)."""
        return total_s(self.stages)


def _number(value: Any, where: str, *, low: float, high: float, whole: bool = False) -> float:
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"{where} must be {kind}, not {json.dumps(value)}")
    if not math.isfinite(value) or not low <= value <= high or (whole and value != int(value)):
        raise PlanError(f"{where} must be {kind} from {low:g} to {high:g}, not {value!r}")
    return value


def _object(value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PlanError(f"{where} must be an object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise PlanError(f"{where}: unknown key {unknown[0]!r} (allowed: {known})")
    return value


def _stages(value: Any, model: str) -> tuple[Stage, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= 1000:
        raise PlanError("SHOPSIM_LOAD_PLAN.stages must be a list of 1 to 1000 stages")
    stages = []
    for i, raw in enumerate(value):
        where = f"SHOPSIM_LOAD_PLAN.stages[{i}]"
        item = _object(raw, where, STAGE_KEYS)
        for key in ("duration_s", "target"):
            if key not in item:
                raise PlanError(f"{where}.{key} is required")
        duration = _number(item["duration_s"], f"{where}.duration_s", low=0.001, high=86_400)
        target = _number(
            item["target"], f"{where}.target", low=0, high=MAX_RATE, whole=model == "closed"
        )
        ramp = item.get("ramp", False)
        if not isinstance(ramp, bool):
            raise PlanError(f"{where}.ramp must be true or false")
        stages.append(Stage(float(duration), float(target), ramp))
    return tuple(stages)


def _mix(value: Any) -> dict[str, float]:
    item = _object(value, "SHOPSIM_LOAD_PLAN.mix", set(JOURNEYS))
    mix = {
        j: _number(item.get(j, 0), f"SHOPSIM_LOAD_PLAN.mix.{j}", low=0, high=1e6) for j in JOURNEYS
    }
    if sum(mix.values()) <= 0:
        raise PlanError("SHOPSIM_LOAD_PLAN.mix needs at least one journey with a weight above 0")
    return mix


def parse_plan(text: str) -> Plan:
    """Validate the JSON text of a plan."""
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise PlanError(f"SHOPSIM_LOAD_PLAN is not valid JSON: {err}") from None
    item = _object(raw, "SHOPSIM_LOAD_PLAN", KEYS)
    for key in ("model", "stages"):
        if key not in item:
            raise PlanError(f"SHOPSIM_LOAD_PLAN.{key} is required")
    model = item["model"]
    if model not in MODELS:
        raise PlanError(f"SHOPSIM_LOAD_PLAN.model must be 'open' or 'closed', not {model!r}")
    port = item.get("metrics_port")
    if port is not None:
        port = int(_number(port, "SHOPSIM_LOAD_PLAN.metrics_port", low=1, high=65535, whole=True))

    def whole(key: str, default: int, low: int, high: int) -> int:
        where = f"SHOPSIM_LOAD_PLAN.{key}"
        return int(_number(item.get(key, default), where, low=low, high=high, whole=True))

    return Plan(
        model=model,
        stages=_stages(item["stages"], model),
        mix=_mix(item["mix"]) if "mix" in item else dict(DEFAULT_MIX),
        seed=whole("seed", 1, -(2**62), 2**62),
        customers=whole("customers", 200, 1, 10_000_000),
        metrics_port=port,
        max_in_flight=whole("max_in_flight", 2000, 1, 1_000_000),
        time_scale=_number(
            item.get("time_scale", 1.0), "SHOPSIM_LOAD_PLAN.time_scale", low=1e-6, high=1e6
        ),
    )


def read_plan(environ: Mapping[str, str]) -> Plan:
    """The plan from SHOPSIM_LOAD_PLAN, or the stand-alone defaults when it is not set."""
    text = environ.get(PLAN_ENV, "").strip()
    if text:
        return parse_plan(text)
    model = environ.get(MODEL_ENV, "closed").strip() or "closed"
    if model not in MODELS:
        raise PlanError(f"{MODEL_ENV} must be 'open' or 'closed', not {model!r}")
    port_text = environ.get(METRICS_PORT_ENV, "").strip()
    port = None
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise PlanError(f"{METRICS_PORT_ENV} must be a port number, not {port_text!r}")
        port = int(port_text)
    return Plan(model=model, metrics_port=port)


def check_loopback(url: str | None) -> str:
    """`url` if its host is on this machine (127.0.0.0/8, ::1, localhost), else PlanError.

    The load generator is only ever pointed at a store on the same machine: a typo must not
    send a sale day's traffic to somebody else's server.
    """
    if not url:
        raise PlanError("no --host given: pass --host http://127.0.0.1:PORT")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise PlanError(f"--host {url!r} is not an http:// URL with a host")
    if host == "localhost":
        return url
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise PlanError(
            f"refusing to load --host {url!r}: only 127.0.0.0/8, ::1 and localhost are allowed"
        )
    return url
