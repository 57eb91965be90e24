"""Limits that keep a hostile scenario file from costing minutes, memory or a traceback.

A scenario is a few KiB of YAML. Before anything is built from a file, the loader refuses one

- larger than MAX_BYTES (it reads at most that much, whatever the file is);
- nested deeper than MAX_DEPTH (PyYAML composes recursively: deep nesting ends in RecursionError);
- whose aliases expand it past MAX_VALUES values: an alias stands for its whole anchored node,
  so a few lines of nested aliases ("billion laughs") stand for a billion values, and every
  later walk of the document (duplicate keys, validation) would visit each one;
- whose alias points into its own anchor (a recursive document), or that holds an integer too
  long for Python to convert.

`shape_problem` walks the parser's events once, without recursion and without building
anything: each anchor remembers how many values its node holds and how deep it goes, so an alias
costs exactly what it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

MAX_BYTES = 128 * 1024  # the built-ins are about 2 KiB; 200 faults, the most allowed, ~25 KiB
MAX_DEPTH = 32  # the deepest field (resilience.initial.SVC.dependencies.DEP.x) is 6 levels
MAX_VALUES = 25_000  # keys and values, aliases expanded; a 200-fault scenario has ~6,000
MAX_INT_DIGITS = 100  # longer integers are mistakes (and past 4,300 digits Python refuses them)

_INT_TAG = "tag:yaml.org,2002:int"


@dataclass
class _Open:
    """A collection whose end has not been parsed yet."""

    anchor: str | None
    values: int = 0
    height: int = 0


def shape_problem(text: str) -> tuple[int, str] | None:
    """(1-based line, problem) for the first limit `text` breaks, or None.

    YAML syntax errors propagate as PyYAML's MarkedYAMLError, exactly as composing would raise.
    """
    resolver = yaml.resolver.Resolver()
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, height) of its node
    stack: list[_Open] = []
    total = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                return line, f"nested more than {MAX_DEPTH} levels deep; a scenario needs 6"
            stack.append(_Open(event.anchor))
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            done = stack.pop()
            size, height = done.values + 1, done.height + 1
            if done.anchor is not None:
                anchors[done.anchor] = (size, height)
        elif isinstance(event, yaml.ScalarEvent):
            size, height = 1, 0
            if event.anchor is not None:
                anchors[event.anchor] = (size, height)
            if _long_integer(event, resolver):
                return line, f"an integer of {len(event.value)} digits; at most {MAX_INT_DIGITS}"
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                if any(o.anchor == event.anchor for o in stack):
                    return line, f"alias *{event.anchor} refers to its own anchor (recursion)"
                continue  # undefined: composing reports it with its usual message
            size, height = anchors[event.anchor]
        else:
            continue  # stream and document boundaries
        total += size
        if total > MAX_VALUES:
            why = " once its aliases are expanded" if anchors else ""
            return line, f"more than {MAX_VALUES} values{why}; a scenario needs far fewer"
        if len(stack) + height > MAX_DEPTH:
            return line, f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded"
        if stack:
            stack[-1].values += size
            stack[-1].height = max(stack[-1].height, height)
    return None


def _long_integer(event: yaml.ScalarEvent, resolver: yaml.resolver.Resolver) -> bool:
    """A plain scalar that YAML reads as an integer, longer than MAX_INT_DIGITS."""
    if len(event.value) <= MAX_INT_DIGITS or not event.implicit[0]:
        return False
    return bool(resolver.resolve(yaml.ScalarNode, event.value, event.implicit) == _INT_TAG)
