"""Loading a finished run directory: the manifest, the scenario as run, the samples, and (kept
apart, for scoring only) the fault timeline as carried out.

Times: the verdict counts seconds from the moment the load started (``load_started_at`` in the
manifest), the clock of ``series.csv`` and of the timeline's records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsim.gameday.loader import ScenarioError, load_scenario
from shopsim.gameday.scenario import Scenario
from shopsim.verdict.samples import Samples, read_samples


class RunDirError(ValueError):
    """The directory is not a readable game-day run; the message says what is missing."""


@dataclass(frozen=True)
class FaultWindow:
    """One fault as the timeline carried it out: when it was on, in run seconds."""

    name: str
    type: str
    target: str
    start_s: float
    end_s: float | None  # None: still on when the record ends


@dataclass
class Run:
    """A run directory, read."""

    path: Path
    manifest: dict[str, Any]
    scenario: Scenario
    samples: Samples
    origin: float  # unix time the load started
    faults: list[FaultWindow]  # the injected timeline: for scoring only, never for inference

    @property
    def time_scale(self) -> float:
        """The run's --time-scale."""
        return float(self.manifest.get("time_scale") or 1.0)

    @property
    def databases(self) -> dict[str, str | None]:
        """Service -> SQLAlchemy URL of its data, as the manifest recorded it."""
        found = self.manifest.get("databases") or {}
        return {k: v for k, v in found.items() if isinstance(k, str)}


def fault_windows(path: Path) -> list[FaultWindow]:
    """The faults of ``faults.jsonl``: add .. remove (or reset) per fault name."""
    if not path.exists():
        return []
    opened: dict[str, tuple[str, str, float]] = {}
    out: list[FaultWindow] = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        action, detail = record.get("action"), record.get("detail") or {}
        at = float(record.get("done_s", record.get("at_s", 0.0)))
        if action == "add" and "name" in detail:
            opened[detail["name"]] = (detail.get("type", "?"), detail.get("target", "?"), at)
        elif action == "remove" and detail.get("name") in opened:
            kind, target, start = opened.pop(detail["name"])
            out.append(FaultWindow(detail["name"], kind, target, start, at))
        elif action == "reset":
            for name, (kind, target, start) in opened.items():
                out.append(FaultWindow(name, kind, target, start, at))
            opened.clear()
    out += [FaultWindow(n, k, t, s, None) for n, (k, t, s) in opened.items()]
    return sorted(out, key=lambda f: f.start_s)


def load_run(path: Path) -> Run:
    """Read a run directory; RunDirError when it is not one."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise RunDirError(f"{path}: no manifest.json here; is this a game-day run directory?")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise RunDirError(f"{manifest_path}: not JSON ({exc})") from None
    try:
        scenario = load_scenario(path / "scenario.yaml")
    except ScenarioError as err:
        raise RunDirError(f"the run's scenario cannot be read: {err}") from None
    if not (path / "samples").is_dir():
        raise RunDirError(f"{path}: no samples/ directory: the run recorded no metrics")
    samples = read_samples(path / "samples")
    if not samples.rounds:
        raise RunDirError(f"{path}: samples/ holds no scrapes")
    origin = manifest.get("load_started_at")
    if not isinstance(origin, int | float):
        origin = samples.rounds[0] - 1.0  # runs before the manifest said: first scrape after 1 s
    return Run(
        path, manifest, scenario, samples, float(origin), fault_windows(path / "faults.jsonl")
    )
