"""The field types of scenario files: durations, service names, shares, and the error helper.

Durations are written as text ("30s", "5m", "500ms", parsed by shopsim.faults.spec.parse_duration)
or as numbers of seconds, and held as float seconds; the JSON Schema accepts both spellings.
Service names are checked as a fault's target is (shopsim.faults.spec.ServiceName). Checks
that span fields raise `problem(message, *path)`: its context carries the path below the model
raising it, so the loader can point at the exact line of the file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from shopsim.faults.spec import MAX_DURATION_S, parse_duration
from shopsim.faults.spec import ServiceName as ServiceName  # re-exported for scenario fields

MAX_RUN_S = 24 * 3600.0
MAX_RATE = 10_000.0  # arrivals per second
MAX_USERS = 10_000
MAX_TIME_SCALE = 1000.0
JOURNEYS = ("browser", "shopper", "gift_buyer")
#: What a stop condition may watch: the table the orchestrator computes every second.
StopMetric = Literal[
    "checkout_error_ratio",  # share of checkouts that failed
    "checkout_p95_seconds",
    "browse_error_ratio",  # share of browsing requests that failed
    "load_cpu_percent",  # the load process's own CPU
    "dropped_arrivals_per_s",  # open-model arrivals dropped at max_in_flight
]
STOP_METRICS: tuple[str, ...] = get_args(StopMetric)
RATIO_METRICS = frozenset({"checkout_error_ratio", "browse_error_ratio"})
#: Figures of the verdict an expectation's `thresholds` may bound, as FIGURE_min or FIGURE_max.
FIGURES: dict[str, str] = {
    "checkout_success": "share of checkouts that succeeded over the run",
    "checkout_latency_within": "share of checkouts answered within the latency SLO threshold",
    "browse_success": "share of browsing requests that succeeded over the run",
    "failed_checkouts": "checkouts that failed",
    "error_pages": "dog pages shown",
    "detection_s": "seconds from the first fault (or incident) to the first alert",
    "recovery_s": "seconds from the trigger's end to healthy checkout",
    "revenue_lost_dollars": "value of the failed checkouts",
    "wrong_recipients": "customers who got mail meant for someone else",
    "integrity_violations": "integrity violations found by the audit",
}
THRESHOLDS = tuple(sorted(f"{f}_{b}" for f in FIGURES for b in ("min", "max")))
SloName = Literal["checkout_availability", "checkout_latency", "browse_availability"]
SLO_NAMES: tuple[str, ...] = get_args(SloName)
DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h)?\s*$"


def problem(message: str, *path: str | int) -> PydanticCustomError:
    """A validation error about `path` (below the model raising it), for the loader to locate."""
    return PydanticCustomError("scenario", "{message}", {"message": message, "path": path})


def split_path(field: str) -> tuple[str | int, ...]:
    """'params.body[0].x' -> ('params', 'body', 0, 'x'): an error's field back into a path."""
    parts: list[str | int] = []
    for piece in filter(None, field.split(".")):
        name, *indexes = piece.split("[")
        parts += [name] if name else []
        parts += [int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit()]
    return tuple(parts)


def check_time_scale(value: float) -> float:
    """The time scale as a float; ValueError outside (0, MAX_TIME_SCALE]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"time scale must be a number, not {value!r}")
    if not 0 < value <= MAX_TIME_SCALE:  # also refuses NaN
        raise ValueError(f"time scale must be more than 0 and at most {MAX_TIME_SCALE:g}")
    return float(value)


def fmt_s(seconds: float) -> str:
    """150.0 -> '150s', 2.5 -> '2.5s'."""
    return f"{seconds:g}s"


def _seconds(value: Any) -> Any:
    if not isinstance(value, str | int | float):  # None, lists, dates: parse_duration would crash
        raise ValueError("a duration is a number of seconds or text like 30s, 5m, 500ms")
    try:
        return parse_duration(value)
    except OverflowError:
        raise ValueError(f"{value!r} is far too long") from None


def _written(*, positive: bool, most: float) -> WithJsonSchema:
    """The JSON Schema of a duration: a number of seconds or text; `positive` refuses 0."""
    low = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    number = {"type": "number", **low, "maximum": most}
    text = {"type": "string", "pattern": DURATION_PATTERN}
    return WithJsonSchema({"anyOf": [number, text]})


# Spelled out rather than built by a function, so that mypy sees float seconds.
Span = Annotated[  # how long something lasts
    float,
    BeforeValidator(_seconds),
    Field(gt=0, le=MAX_RUN_S),
    Field(allow_inf_nan=False),
    _written(positive=True, most=MAX_RUN_S),
]
Instant = Annotated[  # when, from the start of the run
    float,
    BeforeValidator(_seconds),
    Field(ge=0, le=MAX_RUN_S),
    Field(allow_inf_nan=False),
    _written(positive=False, most=MAX_RUN_S),
]
FaultSpan = Annotated[  # every fault expires by itself
    float,
    BeforeValidator(_seconds),
    Field(gt=0, le=MAX_DURATION_S),
    Field(allow_inf_nan=False),
    _written(positive=True, most=MAX_DURATION_S),
]


Ratio = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class Base(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
