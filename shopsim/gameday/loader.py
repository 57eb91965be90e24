"""Reading a scenario file, and turning a scenario into what the run needs.

    scenario = load_scenario("loadtests/scenarios/payment-brownout.yaml")
    plan = to_plan(scenario, time_scale, metrics_port, customers)   # -> SHOPSIM_LOAD_PLAN
    timeline = to_timeline(scenario, time_scale)                    # faults + resilience

Every mistake in a file is one `ScenarioError` whose message says where, one line per problem:

    loadtests/scenarios/x.yaml:14: faults[2].params.ms: Input should be a valid number

The YAML is composed into nodes first (each knows its line), then validated; a pydantic error
location such as ("faults", 2, "params", "ms") is walked down the nodes to find its line.
Before that, shopsim.gameday.guard refuses a file too large, too deep, or whose aliases expand
too far, so a hostile file is refused at once rather than after minutes.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from shopsim.faults.timeline import FaultAt, ResilienceAt, Timeline
from shopsim.gameday.guard import MAX_BYTES, shape_problem
from shopsim.gameday.scenario import Scenario, check_time_scale

Loc = Sequence[str | int]


class ScenarioError(ValueError):
    """A scenario file cannot be used; the message reads `file:line: path: problem`."""


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; ScenarioError says where any problem is."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)  # never more, whatever the file is
        if len(raw) > MAX_BYTES:
            raise ScenarioError(_too_large(str(path)))
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; `source` names it in errors."""
    if len(text) > MAX_BYTES:
        raise ScenarioError(_too_large(source))
    try:
        if limit := shape_problem(text):
            raise ScenarioError(f"{source}:{limit[0]}: {limit[1]}")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)  # a second parse: merge keys (<<) rewrite composed nodes
    except yaml.MarkedYAMLError as exc:
        mark, opened = exc.problem_mark or exc.context_mark, exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        context = exc.context
        if context and opened and mark and opened.line != mark.line:
            context += f" started on line {opened.line + 1}"  # e.g. an unclosed bracket
        detail = ": ".join(str(x) for x in (context, exc.problem) if x)
        raise ScenarioError(f"{where}: YAML syntax error: {detail}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: YAML error: {exc}") from None
    if root is None:
        raise ScenarioError(
            f"{source}:1: the file is empty; a scenario needs at least name, "
            "description, duration and load"
        )
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else f"the value {data!r}"
        raise ScenarioError(
            f"{source}:{root.start_mark.line + 1}: the top level must be a mapping of fields "
            f"(name: ..., description: ...), not {kind}"
        )
    _refuse_duplicate_keys(root, source, ())
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = [_render(err, root, source) for err in exc.errors(include_url=False)]
        raise ScenarioError("\n".join(lines)) from None


def _too_large(source: str) -> str:
    return (
        f"{source}: larger than {MAX_BYTES // 1024} KiB; a scenario file is a few KiB "
        "(is this the right file?)"
    )


def path_text(loc: Loc) -> str:
    """('faults', 2, 'params', 'ms') -> 'faults[2].params.ms'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _render(err: Any, root: yaml.Node, source: str) -> str:
    loc = [part for part in err["loc"] if part != "[key]"]  # a dict key's own error
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "scenario":
        loc += list(err["ctx"]["path"])
        message = err["ctx"]["message"]
    elif err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "is not a known field" + _suggest(loc)
    where = f"{source}:{line_of(root, loc)}"
    path = path_text(loc)
    if not path:
        return f"{where}: {message}"
    return f"{where}: {path}{' ' if message.startswith('is ') else ': '}{message}"


def line_of(root: yaml.Node, loc: Loc) -> int:
    """The 1-based line of the deepest node on `loc` (a key's own line for mapping entries)."""
    node, line = root, root.start_mark.line
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _refuse_duplicate_keys(node: yaml.Node, source: str, loc: tuple[str | int, ...]) -> None:
    """PyYAML keeps the last of two equal keys silently; a scenario refuses them."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name, line = str(key.value), key.start_mark.line + 1
            if isinstance(key, yaml.ScalarNode) and name in seen:
                where = path_text((*loc, name))
                raise ScenarioError(
                    f"{source}:{line}: {where}: given twice (first on line {seen[name]})"
                )
            seen[name] = line
            _refuse_duplicate_keys(value, source, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, source, (*loc, i))


def _suggest(loc: Loc) -> str:
    """' (did you mean 'x'?)' or ' (known: a, b)' for an unknown field at `loc`."""
    known = _fields_at(loc[:-1])
    if not known or not loc:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def _fields_at(loc: Loc) -> list[str]:
    """The field names (aliases) of the model found at `loc` below Scenario, if any."""
    kind: Any = Scenario
    for part in loc:
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            fields = {f.alias or name: f for name, f in kind.model_fields.items()}
            if part not in fields:
                return []
            kind = fields[str(part)].annotation
        elif typing.get_origin(kind) is list and isinstance(part, int):
            kind = typing.get_args(kind)[0]
        elif typing.get_origin(kind) is dict:
            kind = typing.get_args(kind)[1]
        else:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [f.alias or name for name, f in kind.model_fields.items()]
    return []


def _unwrap(kind: Any) -> Any:
    """Strip Annotated[...] and `| None`."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
        elif origin in (typing.Union, types.UnionType):
            kind = next(a for a in typing.get_args(kind) if a is not type(None))
        else:
            return kind


def to_plan(
    scenario: Scenario, time_scale: float, metrics_port: int, customers: int
) -> dict[str, Any]:
    """The load plan for SHOPSIM_LOAD_PLAN, every time divided by `time_scale`."""
    scale = check_time_scale(time_scale)
    if not 0 < metrics_port < 65536:
        raise ValueError(f"metrics_port must be a port number, not {metrics_port}")
    if customers < 1:
        raise ValueError(f"customers must be at least 1, not {customers}")
    load = scenario.load
    return {
        "model": load.model,
        "stages": [
            {"duration_s": stage.duration_s / scale, "target": stage.target(), "ramp": stage.ramp}
            for stage in load.stages
        ],
        "mix": load.mix.model_dump(),
        "seed": scenario.seed,
        "customers": customers,
        "metrics_port": metrics_port,
        "max_in_flight": load.max_in_flight,
        "time_scale": scale,
    }


def timeline_entries(scenario: Scenario, time_scale: float) -> list[FaultAt | ResilienceAt]:
    """Initial resilience (at 0), faults and resilience changes, times divided by `time_scale`.

    Only times are scaled (when, and how long a fault lasts); a fault's own parameters (latency
    ms, hang seconds) and resilience settings (timeouts) are not: they model the store, not the
    rehearsal's clock.
    """
    scale = check_time_scale(time_scale)
    resilience = scenario.resilience
    entries: list[FaultAt | ResilienceAt] = [
        ResilienceAt(0.0, service, patch.model_dump(exclude_none=True))
        for service, patch in resilience.initial.items()
    ]
    entries += [FaultAt(fault.at_s / scale, fault.spec.scaled(scale)) for fault in scenario.faults]
    entries += [
        ResilienceAt(
            change.at_s / scale, change.service, change.patch.model_dump(exclude_none=True)
        )
        for change in resilience.changes
    ]
    return entries


def to_timeline(scenario: Scenario, time_scale: float) -> Timeline:
    """The scenario's faults and resilience settings as a Timeline to run against the store."""
    return Timeline(timeline_entries(scenario, time_scale))
