"""Where the Locust project and the built-in scenarios are, in a checkout or an installed wheel.

Both live in `loadtests/` beside the `shopsim` package: in a checkout that is the repository's
top-level folder; an installed wheel ships the same folder as the `loadtests` package next to
`shopsim` in site-packages, scenarios included. So `shopsim gameday` finds them wherever it is
run from, and `locust -f loadtests/locustfile.py` still works in a checkout.

A built-in scenario is named by its file's stem: `shopsim gameday labor-day-checkout`.
"""

from __future__ import annotations

from pathlib import Path

from shopsim.gameday.loader import ScenarioError

SUFFIX = ".yaml"


class MissingProject(RuntimeError):
    """The Locust project is not where an installed or checked-out shopsim keeps it."""


def loadtests_dir() -> Path:
    """The `loadtests/` folder beside the shopsim package."""
    return Path(__file__).resolve().parents[2] / "loadtests"


def locustfile() -> Path:
    """The locustfile `shopsim gameday` runs; MissingProject when it was not installed."""
    path = loadtests_dir() / "locustfile.py"
    if not path.is_file():
        raise MissingProject(
            f"the Locust project is missing: no {path} (reinstall shopsim, or run from a checkout)"
        )
    return path


def scenarios_dir() -> Path:
    """The folder of the built-in scenarios."""
    return loadtests_dir() / "scenarios"


def builtin_scenarios() -> dict[str, Path]:
    """Built-in scenario name -> file, sorted by name."""
    return {p.stem: p for p in sorted(scenarios_dir().glob(f"*{SUFFIX}"))}


def resolve_scenario(text: str) -> Path:
    """A scenario argument -> its file: an existing file, else a built-in scenario's name.

    ScenarioError when it is neither (listing the built-ins); a path that does not exist is
    handed back as it is, for the loader to say so.
    """
    path = Path(text)
    if path.is_file():
        return path
    builtins = builtin_scenarios()
    if text in builtins:
        return builtins[text]
    if path.exists() or "/" in text or text.endswith((SUFFIX, ".yml")):
        return path
    known = ", ".join(builtins) or "none found"
    raise ScenarioError(
        f"{text}: no such file, and no built-in scenario of that name "
        f"(built in: {known}; `shopsim scenarios` describes them)"
    )
