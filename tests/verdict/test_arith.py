"""Counter increases, rolling sums and histogram quantiles, on values with known answers."""

from __future__ import annotations

import math

import pytest

from shopsim.verdict.arith import increases, iqr, median, quantile, ratio, share_within

NAN = math.nan


def test_increases_are_per_round_differences():
    assert increases([1.0, 3.0, 6.0, 6.0]) == [None, 2.0, 3.0, 0.0]


def test_a_drop_is_a_restart_counted_from_zero():
    assert increases([5.0, 7.0, 2.0, 4.0]) == [None, 2.0, 2.0, 2.0]


def test_an_absent_round_is_unknown_and_the_next_carries_the_increase():
    # totals stay right: nothing counted while a scrape failed is lost
    assert increases([1.0, NAN, 4.0, 5.0]) == [None, None, 3.0, 1.0]


def test_a_series_seen_late_counts_from_zero():
    assert increases([NAN, NAN, 3.0, 5.0]) == [None, None, 3.0, 2.0]


def test_quantile_interpolates_inside_the_bucket_like_prometheus():
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.7, buckets) == pytest.approx(0.3)
    assert quantile(0.95, buckets) == pytest.approx(0.75)


def test_quantile_of_nothing_is_none():
    assert quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None


def test_share_within_a_bucket_bound_is_exact():
    assert share_within({0.25: 30.0, 2.5: 90.0, math.inf: 100.0}, 2.5) == pytest.approx(0.9)


def test_robust_statistics_ignore_unknown_rounds():
    values = [1.0, None, 2.0, 3.0, 4.0, None]
    assert median(values) == 2.5
    assert iqr(values) == pytest.approx(1.5)


def test_ratio_is_unknown_where_the_denominator_is_empty():
    assert ratio([1.0, 2.0, None], [2.0, 0.0, 1.0]) == [0.5, None, None]
