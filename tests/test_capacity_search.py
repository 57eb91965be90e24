"""The capacity search on a fake judge: a deterministic threshold, no store, no load."""

from __future__ import annotations

import pytest

from shopsim.capacity.search import Step, search


def threshold(knee: float, *, invalid_above: float | None = None, culprit: str = "payment"):
    """A judge whose SLOs hold up to `knee`; above `invalid_above` the harness is the limit."""
    calls: list[tuple[float, str]] = []

    def judge(rate: float, phase: str) -> Step:
        calls.append((rate, phase))
        held = rate <= knee
        valid = invalid_above is None or rate <= invalid_above
        return Step(rate, held, valid, culprit=None if held else culprit, phase=phase)

    return judge, calls


@pytest.mark.parametrize("knee", [5.0, 13.0, 27.5, 100.0, 333.0])
@pytest.mark.parametrize("tolerance", [0.2, 0.1, 0.05])
def test_converges_within_tolerance(knee: float, tolerance: float) -> None:
    judge, calls = threshold(knee)
    found = search(judge, 4.0, tolerance=tolerance, max_rate=5000)
    assert found.rate is not None and found.first_bad is not None
    assert found.rate <= knee < found.first_bad.rate
    assert found.first_bad.rate / found.rate <= 1 + tolerance + 0.01  # rounding to 0.01/s
    assert found.valid and not found.reached_max
    assert found.first_bad.culprit == "payment"
    assert [s.rate for s in found.steps] == [r for r, _ in calls]  # every step recorded


def test_ramp_doubles_then_bisects() -> None:
    judge, calls = threshold(20.0)
    found = search(judge, 4.0, tolerance=0.2)
    assert [r for r, _ in calls[:4]] == [4.0, 8.0, 16.0, 32.0]
    assert {p for _, p in calls[:4]} == {"ramp"}
    assert {p for _, p in calls[4:]} == {"bisect"}
    assert all(16.0 < r < 32.0 for r, _ in calls[4:])
    assert found.rate == max(s.rate for s in found.steps if s.good)


def test_start_that_fails_halves_down() -> None:
    judge, calls = threshold(1.5)
    found = search(judge, 8.0, tolerance=0.2)
    assert [r for r, _ in calls[:4]] == [8.0, 4.0, 2.0, 1.0]
    assert calls[1][1] == "down"
    assert found.rate is not None and found.rate <= 1.5 < found.first_bad.rate  # type: ignore[union-attr]


def test_nothing_holds() -> None:
    judge, _ = threshold(0.0)
    found = search(judge, 4.0, tolerance=0.2, min_rate=0.5)
    assert found.rate is None and found.first_bad is not None
    assert [s.rate for s in found.steps] == [4.0, 2.0, 1.0, 0.5]


def test_max_rate_gives_a_lower_bound() -> None:
    judge, _ = threshold(1e9)
    found = search(judge, 4.0, tolerance=0.2, max_rate=50.0)
    assert found.reached_max and found.rate == 50.0 and found.first_bad is None


def test_harness_limit_marks_the_answer_invalid() -> None:
    judge, _ = threshold(100.0, invalid_above=30.0)
    found = search(judge, 4.0, tolerance=0.2)
    assert not found.valid
    assert found.first_bad is not None and not found.first_bad.valid
    assert found.rate is not None and found.rate <= 30.0


def test_max_steps_bounds_the_work() -> None:
    judge, calls = threshold(17.0)
    found = search(judge, 4.0, tolerance=0.001, max_steps=6)
    assert len(calls) == 6 == len(found.steps)


def test_same_verdicts_same_answer() -> None:
    first = search(threshold(23.0)[0], 4.0, tolerance=0.1)
    second = search(threshold(23.0)[0], 4.0, tolerance=0.1)
    assert first.steps == second.steps and first.rate == second.rate


@pytest.mark.parametrize(
    "kwargs", [{"start": 0.0}, {"tolerance": 0.0}, {"factor": 1.0}, {"max_rate": 1.0}]
)
def test_bad_arguments(kwargs: dict) -> None:
    args = {"start": 4.0, "tolerance": 0.2, "factor": 2.0, "max_rate": 100.0} | kwargs
    start = args.pop("start")
    with pytest.raises(ValueError):
        search(threshold(10)[0], start, **args)
