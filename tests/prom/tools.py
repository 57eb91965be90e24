"""Finding Prometheus' binaries for the tests: CI requires them (SHOPSIM_REQUIRE_PROMTOOL)."""

from __future__ import annotations

import os
import shutil

import pytest


def binary(name: str) -> str:
    """The path of `promtool` or `prometheus`, or skip (fail in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("SHOPSIM_REQUIRE_PROMTOOL"):
            pytest.fail(f"{name} is required (Debian package prometheus)")
        pytest.skip(f"{name} not installed (Debian package prometheus)")
    return path
