"""The integrity audit and impact facts, as the report holds them (adapter over audit.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def audit_run(databases: Mapping[str, str | None]) -> dict[str, Any]:
    """report.json's `integrity`."""
    return {
        "checked": False,
        "clean": None,
        "violations": {},
        "examples": {},
        "reason": "not built yet",
    }


def impact_of(databases: Mapping[str, str | None]) -> dict[str, Any]:
    """Impact facts from the databases."""
    return {}
