"""Scoring communication on made-up posts with known answers (targets at time scale 1:
first post within 5 s of onset, updates at least every 20 s)."""

from __future__ import annotations

import json

from shopsim.verdict.communication import read_posts, score, summary_line
from shopsim.verdict.slo import factor_for

FACTOR = factor_for(1.0)


def post(at_s, status, **extra):
    return {"at_s": at_s, "status": status, "message": f"{status} at {at_s}", **extra}


def test_silence_through_an_incident_fails_and_says_so():
    said = score([], auto_posting=False, onset_s=30.0, end_s=110.0, factor=FACTOR)
    assert said["targets"] == {"first_post_s": 5.0, "update_gap_s": 20.0}
    assert said["first_post_seconds"] is None and said["posts"] == []
    assert said["passed"] is False
    assert summary_line(said).startswith("silent for the whole incident")


def test_prompt_regular_posts_with_a_data_statement_pass():
    posts = [
        post(33.0, "investigating"),
        post(45.0, "identified"),
        post(60.0, "identified"),
        post(75.0, "monitoring"),
        post(80.0, "resolved", data_impact="none"),
    ]
    said = score(posts, auto_posting=True, onset_s=30.0, end_s=74.0, factor=FACTOR, paged_at_s=32.0)
    assert said["first_post_seconds"] == 3.0
    assert said["first_post_after_page_seconds"] == 1.0
    assert said["max_update_gap_seconds"] == 15.0
    assert said["resolution_states_data_impact"] is True
    assert said["passed"] is True
    assert "first post 3s after onset (target 5s; 1s after the first page)" in summary_line(said)


def test_each_target_missed_fails_on_its_own():
    ok = [post(31.0, "investigating"), post(40.0, "resolved", data_impact="harmed")]
    assert score(ok, auto_posting=True, onset_s=30.0, end_s=39.0, factor=FACTOR)["passed"]
    late = [post(37.0, "investigating"), post(40.0, "resolved", data_impact="none")]
    assert not score(late, auto_posting=True, onset_s=30.0, end_s=39.0, factor=FACTOR)["passed"]
    gap = [post(31.0, "investigating"), post(55.0, "resolved", data_impact="none")]
    said = score(gap, auto_posting=True, onset_s=30.0, end_s=50.0, factor=FACTOR)
    assert said["max_update_gap_seconds"] == 24.0 and not said["passed"]
    vague = [post(31.0, "investigating"), post(40.0, "resolved", data_impact="unknown")]
    said = score(vague, auto_posting=True, onset_s=30.0, end_s=39.0, factor=FACTOR)
    assert said["resolution_states_data_impact"] is False and not said["passed"]


def test_an_incident_never_resolved_counts_its_silence_until_the_end():
    said = score(
        [post(31.0, "investigating")], auto_posting=True, onset_s=30.0, end_s=90.0, factor=FACTOR
    )
    assert said["max_update_gap_seconds"] == 59.0
    assert said["resolution_states_data_impact"] is None and not said["passed"]


def test_targets_scale_with_the_run():
    said = score([], auto_posting=False, onset_s=None, end_s=None, factor=factor_for(4.0))
    assert said["targets"] == {"first_post_s": 1.25, "update_gap_s": 5.0}
    assert said["passed"] and not said["incident"]  # no incident: nothing to say


def test_posts_are_read_in_time_order_and_torn_lines_skipped(tmp_path):
    path = tmp_path / "status.jsonl"
    assert read_posts(path) == []
    lines = [json.dumps(post(9.0, "resolved")), json.dumps(post(2.0, "investigating")), '{"at_']
    path.write_text("\n".join(lines))
    assert [p["status"] for p in read_posts(path)] == ["investigating", "resolved"]
