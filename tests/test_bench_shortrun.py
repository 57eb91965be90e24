"""The bench's open-model timing figure, read from a Locust JSON report with a known answer."""

from __future__ import annotations

import json
from pathlib import Path

from shopsim.bench.shortrun import on_time, start_lags

ROWS = [
    {"method": "GET", "name": "/", "response_times": {"3": 50}, "num_failures": 0},
    {
        "method": "ARRIVAL",
        "name": "start lag",
        "response_times": {"0": 90, "10": 4, "11": 3, "40": 1},
        "num_failures": 2,
    },
]


def test_on_time_counts_lags_up_to_10_ms_and_dropped_arrivals_as_late(tmp_path: Path) -> None:
    path = tmp_path / "locust.json"
    path.write_text(json.dumps(ROWS))
    figures = on_time(path)
    assert figures["arrivals"] == 98
    assert figures["arrivals_dropped"] == 2
    assert figures["arrivals_on_time_share"] == 94 / 100
    assert figures["arrival_lag_max_ms"] == 40


def test_start_lags_is_none_without_the_arrival_row() -> None:
    assert start_lags(ROWS[:1]) is None
