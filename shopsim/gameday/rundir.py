"""A game day's run directory: everything needed to look at, or redo, the run later.

manifest.json      versions, seed, time scale, the command (no passwords), where each
                   service's data is (SQLAlchemy URLs), start/end, outcome
scenario.yaml      a copy of the scenario as run
series.csv         the derived numbers, one row a second
faults.jsonl       the fault and resilience timeline as carried out (with lateness)
samples/*.prom.gz  every scrape of every source, whole
locust*            Locust's CSV, HTML and JSON reports, and its log
store/             the store's databases and service logs (when the game day started it)
"""

from __future__ import annotations

import csv
import json
import platform
import shutil
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.exc import ArgumentError

from shopsim.db import public_url
from shopsim.gameday.derive import DERIVED

PACKAGES = ("shopsim", "locust", "flask", "httpx", "gunicorn", "sqlalchemy", "prometheus-client")


def versions() -> dict[str, str]:
    """Versions of Python and the packages a run depends on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def shown(arg: str) -> str:
    """A command-line argument as the manifest keeps it: a database URL loses its password."""
    option, sep, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
    if "://" not in value or "@" not in value:
        return arg
    try:
        return option + sep + public_url(value)
    except (ArgumentError, ValueError):  # not a database URL after all
        return arg


class RunDir:
    """Creates the directory and writes its files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.samples = root / "samples"
        self.samples.mkdir(parents=True, exist_ok=True)
        self._series = open(root / "series.csv", "w", newline="")  # noqa: SIM115 - kept open
        self._writer = csv.writer(self._series)
        self._writer.writerow(["elapsed_s", "phase", *DERIVED, "active_faults"])
        self._faults = open(root / "faults.jsonl", "w")  # noqa: SIM115 - kept open

    @classmethod
    def create(cls, out: Path, scenario_name: str) -> RunDir:
        """A fresh directory under `out`, named after the scenario and the time."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        root = out / f"{scenario_name}-{stamp}"
        n = 1
        while root.exists():
            n += 1
            root = out / f"{scenario_name}-{stamp}-{n}"
        return cls(root)

    def copy_scenario(self, path: Path) -> None:
        """Keep the scenario exactly as run."""
        shutil.copyfile(path, self.root / "scenario.yaml")

    def row(self, elapsed_s: float, phase: str, values: dict[str, Any], faults: list[str]) -> None:
        """One second of derived numbers."""
        cells = ["" if values.get(k) is None else f"{values[k]:.4g}" for k in DERIVED]
        self._writer.writerow([f"{elapsed_s:.1f}", phase, *cells, " ".join(faults)])
        self._series.flush()

    def fault_event(self, event: Any) -> None:
        """One step of the fault timeline, as carried out."""
        record = asdict(event) | {"late_s": round(event.late_s, 3), "wall_time": time.time()}
        self._faults.write(json.dumps(record) + "\n")
        self._faults.flush()

    def manifest(self, data: dict[str, Any]) -> None:
        """Write manifest.json (called again at the end with the outcome)."""
        body = {"versions": versions(), "command": [shown(a) for a in sys.argv]} | data
        (self.root / "manifest.json").write_text(json.dumps(body, indent=2, default=str) + "\n")

    def close(self) -> None:
        """Close the files kept open during the run."""
        self._series.close()
        self._faults.close()
