"""Auto-posting in a real game day: a short time-scaled run where cart fails for a while. The
status page must open an incident, update it, resolve it with a word on the data; the posts
land in status.jsonl and in the storefront's own tables, and the verdict scores them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import create_engine, select

from shopsim.services.storefront import statustables
from tests.verdict.test_verdict_gameday import HERE, SCHEMA, gameday

pytestmark = [pytest.mark.processes, pytest.mark.load]


@pytest.fixture(scope="module")
def auto_posted(tmp_path_factory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("status-runs")
    return gameday(HERE / "scenarios" / "status-auto.yaml", out, "--time-scale", "4")


def test_the_incident_is_opened_updated_and_resolved_with_a_word_on_the_data(auto_posted):
    _, out, run = auto_posted
    posts = [json.loads(line) for line in (run / "status.jsonl").read_text().splitlines()]
    statuses = [p["status"] for p in posts]
    assert statuses[0] == "investigating" and statuses[-1] == "resolved", out
    assert statuses.count("resolved") == 1 and len(statuses) >= 3
    assert "cart" in posts[0]["components"], posts[0]
    assert posts[0]["alerts"], posts[0]
    assert posts[-1]["data_impact"] == "none", posts[-1]
    assert "No data was lost" in posts[-1]["message"]
    assert "status page: investigating:" in out


def test_the_posts_are_in_the_storefronts_own_tables(auto_posted):
    _, _, run = auto_posted
    posts = (run / "status.jsonl").read_text().splitlines()
    engine = create_engine(f"sqlite:///{run / 'store' / 'storefront.db'}")
    try:
        with engine.connect() as conn:
            incidents = conn.execute(select(statustables.incidents)).fetchall()
            updates = conn.execute(select(statustables.updates)).fetchall()
            components = conn.execute(select(statustables.components)).fetchall()
    finally:
        engine.dispose()
    assert [i.status for i in incidents] == ["resolved"]
    assert len(updates) == len(posts)
    assert {c.status for c in components} == {"operational"}  # resolving restored them


def test_the_verdict_scores_the_communication(auto_posted):
    _, out, run = auto_posted
    report = json.loads((run / "report.json").read_text())
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    said = report["communication"]
    assert said["auto_posting"] is True and said["incident"] is True
    assert said["first_post_seconds"] is not None
    assert said["resolution_states_data_impact"] is True
    assert said["targets"] == {"first_post_s": 1.25, "update_gap_s": 5.0}
    assert len(said["posts"]) == len((run / "status.jsonl").read_text().splitlines())
    assert "status page first post" in out
