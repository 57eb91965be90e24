"""The JSON Schema of scenario files, generated from the model (so it cannot drift from it).

    python -m shopsim.gameday.schema > loadtests/scenarios/scenario.schema.json

Editors use it for completion and checks (the built-in scenarios point at it on their first
line); a test keeps the committed copy equal to what the model generates. The schema checks
shapes and ranges; the cross-field rules (stages within duration, faults within duration, a
stage key that fits the model, each fault's own parameters) are only checked by the loader.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from shopsim.gameday.scenario import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    schema = Scenario.model_json_schema(mode="validation")
    return {"$schema": DIALECT, **schema, "title": "shopsim game-day scenario"}


def render() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(scenario_schema(), indent=2) + "\n"


def main() -> int:
    """Print the schema on stdout."""
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
