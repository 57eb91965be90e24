"""A finished run's samples as Prometheus TSDB blocks: every scrape of every source written as
OpenMetrics (each sample with its scrape's timestamp), then `promtool tsdb create-blocks-from
openmetrics`. Series get the labels a live scrape by `shopsim prometheus-config` gives them (job,
source, instance) and an `up` series per source, so the dashboards and rules work on a past run.

Every sample name is its own family of type `unknown`: OpenMetrics wants a family's samples in one
block and named after it, and PromQL treats them all alike.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import yaml

from shopsim.prom.rules import LOAD_JOB, SERVICE_JOB
from shopsim.verdict import names as N
from shopsim.verdict.samples import Source, read_source


class ExportError(RuntimeError):
    """The run directory has no samples, or promtool failed."""


def _labels(key: str, extra: str) -> str:
    brace = key.find("{")
    if brace < 0:
        return f"{key}{{{extra}}}"
    inner = key[brace + 1 : -1]
    return f"{key[:brace]}{{{inner},{extra}}}" if inner else f"{key[:brace]}{{{extra}}}"


def _value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def openmetrics_lines(sources: list[Source]) -> Iterator[str]:
    """The OpenMetrics text of every source's scrapes, family by family, then # EOF."""
    extra = {
        s.name: f'job="{LOAD_JOB if N.is_load_source(s.name) else SERVICE_JOB}",'
        f'source="{s.name}",instance="{s.name}"'
        for s in sources
    }
    yield "# TYPE up unknown\n"
    for s in sources:
        for at in s.times:
            yield f"up{{{extra[s.name]}}} 1 {at:.3f}\n"
    names = sorted({name for s in sources for name in s.by_name} - {"up"})
    for name in names:
        yield f"# TYPE {name} unknown\n"
        for s in sources:
            raw = {col: key for key, col in s.columns.items()}
            for col in s.by_name.get(name, ()):
                series = _labels(raw[col], extra[s.name])
                for at, row in zip(s.times, s.rows, strict=True):
                    if col < len(row) and not math.isnan(row[col]):
                        yield f"{series} {_value(row[col])} {at:.3f}\n"
    yield "# EOF\n"


def export_run(run_dir: Path, out_dir: Path, promtool: str | None = None) -> Path:
    """Write TSDB blocks of a run into `out_dir` (and a prometheus.yml to serve them)."""
    tool = promtool or shutil.which("promtool")
    if tool is None:
        raise ExportError("promtool is not on PATH (Debian package prometheus)")
    files = sorted((run_dir / "samples").glob("*.prom.gz"))
    if not files:
        raise ExportError(f"{run_dir}: no samples/*.prom.gz (not a game day's run directory?)")
    sources = [read_source(path) for path in files]
    out_dir.mkdir(parents=True, exist_ok=True)
    text = out_dir / "samples.om"
    with open(text, "w") as handle:
        handle.writelines(openmetrics_lines(sources))
    try:
        done = subprocess.run(
            [tool, "tsdb", "create-blocks-from", "openmetrics", str(text), str(out_dir)],
            capture_output=True,
            text=True,
        )
    finally:
        text.unlink()
    if done.returncode != 0:
        raise ExportError(f"promtool failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}}
    (out_dir / "prometheus.yml").write_text(
        "# Serves an exported shopsim run: prometheus --config.file=prometheus.yml "
        "--storage.tsdb.path=. --storage.tsdb.retention.time=10y\n"
        + yaml.safe_dump(config, sort_keys=False)
    )
    return out_dir
