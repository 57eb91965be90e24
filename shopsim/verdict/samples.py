"""Reading a run's scrapes back: ``samples/<source>.prom.gz``, every scrape kept whole.

Each file is a sequence of scrapes, each headed by ``# shopsim-scrape <unix time>`` and followed
by the Prometheus text exposition the source served. The game day scrapes every source in one
round with one timestamp, so rounds line up across sources by time.

A run of a few minutes holds around a million sample lines, so this reader is built for speed:
a line's series key (the text before its value) is looked up in a dict and parsed only the first
time it is seen; each scrape becomes one array of floats (NaN where a series was absent).
"""

from __future__ import annotations

import gzip
import math
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SCRAPE_HEADER = "# shopsim-scrape "
NAN = math.nan
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
Labels = frozenset[tuple[str, str]]


def parse_key(key: str) -> tuple[str, Labels]:
    """'name{a="1",b="x"}' -> ('name', {('a','1'), ('b','x')})."""
    brace = key.find("{")
    if brace < 0:
        return key, frozenset()
    name = key[:brace]
    pairs = _LABEL.findall(key, brace)
    return name, frozenset(
        (k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")) for k, v in pairs
    )


@dataclass
class Source:
    """Every scrape of one source: times, and per scrape an array of values by column."""

    name: str
    times: list[float] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # raw series key -> column
    keys: list[tuple[str, Labels]] = field(default_factory=list)  # column -> (name, labels)
    # per scrape: column -> value (NaN: absent)
    rows: list[array[float]] = field(default_factory=list)
    by_name: dict[str, list[int]] = field(default_factory=dict)  # metric name -> columns

    def column(self, key: str) -> int:
        """The column of a raw series key, created on first sight."""
        col = self.columns.get(key)
        if col is None:
            col = self.columns[key] = len(self.keys)
            name, labels = parse_key(key)
            self.keys.append((name, labels))
            self.by_name.setdefault(name, []).append(col)
        return col

    def value(self, row: int, col: int) -> float:
        """One value (NaN when the series was absent from that scrape)."""
        values = self.rows[row]
        return values[col] if col < len(values) else NAN


def _scrapes(path: Path) -> Iterator[tuple[float, list[str]]]:
    """(time, sample lines) for each scrape in one file."""
    at: float | None = None
    lines: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
        try:
            for line in handle:
                if line.startswith("#"):
                    if line.startswith(SCRAPE_HEADER):
                        if at is not None:
                            yield at, lines
                        at, lines = float(line[len(SCRAPE_HEADER) :]), []
                    continue
                if at is not None and line.strip():
                    lines.append(line)
        except (EOFError, OSError):  # a run killed mid-write: keep what was written whole
            pass
    if at is not None:
        yield at, lines


def read_source(path: Path, name: str | None = None) -> Source:
    """Parse one source's file."""
    source = Source(name or path.name.removesuffix(".prom.gz"))
    for at, lines in _scrapes(path):
        row = array("d")
        for line in lines:
            key, _, text = line.rstrip("\n").rpartition(" ")
            if not key:
                continue
            if key.endswith("_created") or "_created{" in key:
                continue  # creation timestamps say nothing about the run
            try:
                value = float(text)
            except ValueError:
                continue
            col = source.column(key)
            if col >= len(row):
                row.extend([NAN] * (col + 1 - len(row)))
            row[col] = value
        source.times.append(at)
        source.rows.append(row)
    return source


@dataclass
class Samples:
    """Every source of a run on one timeline of scrape rounds."""

    rounds: list[float]  # unix times, ascending
    sources: dict[str, Source]
    _row_of: dict[str, dict[float, int]] = field(default_factory=dict, repr=False)

    def row(self, source: str, round_index: int) -> int | None:
        """The row of `source` scraped in a round (None when it did not answer)."""
        rows = self._row_of.get(source)
        if rows is None:
            src = self.sources[source]
            rows = self._row_of[source] = {t: i for i, t in enumerate(src.times)}
        return rows.get(self.rounds[round_index])

    def series(
        self, name: str, sources: Iterable[str] | None = None, **match: str
    ) -> Iterator[tuple[str, dict[str, str], list[float]]]:
        """(source, labels, value per round: NaN where absent) for every series of `name`."""
        wanted = set(match.items())
        for source_name in sources if sources is not None else self.sources:
            src = self.sources.get(source_name)
            if src is None:
                continue
            rows = [self.row(source_name, i) for i in range(len(self.rounds))]
            for col in src.by_name.get(name, ()):
                labels = src.keys[col][1]
                if not wanted <= labels:
                    continue
                values = [NAN if r is None else src.value(r, col) for r in rows]
                yield source_name, dict(labels), values

    def answered(self, source: str) -> list[bool]:
        """Per round: did `source` answer?"""
        return [self.row(source, i) is not None for i in range(len(self.rounds))]


def read_samples(directory: Path) -> Samples:
    """Read every ``*.prom.gz`` in a run's samples directory."""
    sources = {}
    for path in sorted(directory.glob("*.prom.gz")):
        src = read_source(path)
        sources[src.name] = src
    rounds = sorted({t for src in sources.values() for t in src.times})
    return Samples(rounds, sources)
