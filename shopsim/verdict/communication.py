"""Scoring the run's public communication against PagerDuty's incident-response targets.

PagerDuty's guide: the first public post within 5 minutes, updates at least every 20 minutes,
and the resolution says whether any data was lost or corrupted. A rehearsal is scaled like the
SLO windows (`slo.factor_for`): at time scale 1 an hour is a minute, so 5 minutes is 5 seconds.

The posts are the run directory's ``status.jsonl`` (what the game day's auto-poster wrote).
A run with an incident and no post is "silent for the whole incident", as in the reference
Labor Day outage; a run without an incident has nothing to say and passes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FIRST_POST_S = 5 * 60.0  # production seconds
UPDATE_GAP_S = 20 * 60.0
STATES_IMPACT = ("none", "harmed")  # data_impact values that say something about the data


def read_posts(path: Path) -> list[dict[str, Any]]:
    """The posts of ``status.jsonl`` in time order (a missing file: none; torn lines skipped)."""
    if not path.is_file():
        return []
    posts = []
    for line in path.read_text().splitlines():
        try:
            post = json.loads(line)
        except ValueError:
            continue
        if isinstance(post, dict) and isinstance(post.get("at_s"), int | float):
            posts.append(post)
    return sorted(posts, key=lambda p: p["at_s"])


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def score(
    posts: Sequence[dict[str, Any]],
    *,
    auto_posting: bool,
    onset_s: float | None,
    end_s: float | None,
    factor: float,
    paged_at_s: float | None = None,
) -> dict[str, Any]:
    """report.json's `communication`: first post after onset, the longest silence between
    updates (until the incident's end when it was never resolved), whether the resolution
    states the data impact, each against the scaled targets."""
    targets = {
        "first_post_s": round(FIRST_POST_S / factor, 2),
        "update_gap_s": round(UPDATE_GAP_S / factor, 2),
    }
    times = [float(p["at_s"]) for p in posts]
    first = None if onset_s is None or not times else max(0.0, times[0] - onset_s)
    after_page = None if paged_at_s is None or not times else max(0.0, times[0] - paged_at_s)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    resolved = [p for p in posts if p.get("status") == "resolved"]
    if times and not resolved and end_s is not None:
        gaps.append(max(0.0, end_s - times[-1]))  # still silent when the incident ended
    longest = max(gaps) if gaps else None
    states = None if not resolved else resolved[-1].get("data_impact") in STATES_IMPACT
    if onset_s is None:
        passed = True  # no incident: nothing to communicate
    else:
        passed = (
            first is not None
            and first <= targets["first_post_s"]
            and (longest is None or longest <= targets["update_gap_s"])
            and states is True
        )
    return {
        "auto_posting": auto_posting,
        "incident": onset_s is not None,
        "first_post_seconds": _r(first),
        "first_post_after_page_seconds": _r(after_page),
        "max_update_gap_seconds": _r(longest),
        "resolution_states_data_impact": states,
        "posts": [
            {
                "at_s": _r(float(p["at_s"])),
                "status": str(p.get("status", "")),
                "message": str(p.get("message", "")),
            }
            for p in posts
        ],
        "targets": targets,
        "passed": passed,
    }


def summary_line(communication: dict[str, Any] | None) -> str:
    """One line for the terminal summary."""
    if not communication:
        return "not scored"
    posts = communication.get("posts") or []
    if not communication.get("incident"):
        return "no incident to communicate" + (f" ({len(posts)} posts)" if posts else "")
    if not posts:
        how = "auto-posting found nothing to post" if communication["auto_posting"] else "silent"
        return f"{how} for the whole incident: no status post (FAILED)"
    t = communication["targets"]
    gap = communication["max_update_gap_seconds"]
    states = communication["resolution_states_data_impact"]
    data = {
        True: "the resolution states the data impact",
        False: "the resolution is silent on data",
        None: "never resolved",
    }
    paged = communication.get("first_post_after_page_seconds")
    page = "" if paged is None else f"; {paged:g}s after the first page"
    longest = "-" if gap is None else f"{gap:g}s"
    failed = "" if communication["passed"] else " (FAILED)"
    return (
        f"first post {communication['first_post_seconds']:g}s after onset (target "
        f"{t['first_post_s']:g}s{page}), longest gap {longest} (target {t['update_gap_s']:g}s), "
        f"{len(posts)} posts, {data[states]}{failed}"
    )
