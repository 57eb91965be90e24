"""Built-in scenarios by name, `shopsim scenarios`, and where a store's data is said to be."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsim.app import OPERATOR_PORT_ENVIRON
from shopsim.cli import main
from shopsim.db import public_url
from shopsim.faults.api import TOKEN_HEADER
from shopsim.gameday import bundled
from shopsim.gameday.bundled import (
    MissingProject,
    builtin_scenarios,
    locustfile,
    resolve_scenario,
    scenarios_dir,
)
from shopsim.gameday.datamap import configured
from shopsim.gameday.loader import ScenarioError, load_scenario, parse_scenario
from shopsim.gameday.rundir import shown
from shopsim.settings import SERVICE_NAMES

ROOT = Path(__file__).resolve().parent.parent
NAMES = [
    "baby-registry-misfire",
    "cart-outage",
    "flash-sale-oversell",
    "labor-day-checkout-status",
    "labor-day-checkout",
    "payment-brownout",
    "retry-storm-budget",  # sorted by file name: "-" before "."
    "retry-storm-shedding",
    "retry-storm",
    "steady-baseline",
]


def test_the_checkout_runs_its_own_loadtests_folder():
    assert locustfile() == ROOT / "loadtests" / "locustfile.py"
    assert scenarios_dir() == ROOT / "loadtests" / "scenarios"
    assert list(builtin_scenarios()) == NAMES


def test_a_missing_locust_project_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "loadtests_dir", lambda: tmp_path / "loadtests")
    with pytest.raises(MissingProject, match="the Locust project is missing: no .*locustfile.py"):
        locustfile()


@pytest.mark.parametrize("name", NAMES)
def test_a_name_finds_the_builtin_from_any_directory(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = resolve_scenario(name)
    assert path == ROOT / "loadtests" / "scenarios" / f"{name}.yaml"
    assert load_scenario(path).name == name


def test_an_existing_file_wins_over_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cart-outage").write_text("name: mine\n")
    assert resolve_scenario("cart-outage") == Path("cart-outage")


def test_an_unknown_name_lists_the_builtins():
    with pytest.raises(ScenarioError) as info:
        resolve_scenario("labour-day")
    message = str(info.value)
    assert message.startswith("labour-day: no such file, and no built-in scenario of that name")
    assert all(name in message for name in NAMES)


def test_a_missing_path_is_left_for_the_loader_to_report():
    assert resolve_scenario("elsewhere/x.yaml") == Path("elsewhere/x.yaml")
    assert resolve_scenario("x.yml") == Path("x.yml")


def test_scenarios_command_lists_every_builtin_on_one_line(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert f"(in {scenarios_dir()})" in out and "shopsim gameday NAME" in out
    rows = [line for line in out.splitlines() if line.startswith("  ")]
    assert [row.split()[0] for row in rows] == NAMES
    for row, name in zip(rows, NAMES, strict=True):
        scenario = load_scenario(scenarios_dir() / f"{name}.yaml")
        assert row.endswith(scenario.headline())
        assert f"{scenario.duration_s:g}s" in row


def test_scenarios_command_says_when_a_builtin_is_broken(tmp_path, monkeypatch, capsys):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "broken.yaml").write_text("name: broken\n")
    monkeypatch.setattr(bundled, "loadtests_dir", lambda: tmp_path)
    assert main(["scenarios"]) == 1
    assert "broken  cannot be loaded:" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_every_builtin_has_a_one_line_summary(name):
    scenario = load_scenario(scenarios_dir() / f"{name}.yaml")
    assert scenario.summary and "\n" not in scenario.summary
    assert scenario.headline() == scenario.summary


BASE = """\
name: t
description: >-
  First sentence of a long description. Second sentence.
duration: 10s
load: {model: open, stages: [{duration: 10s, rate: 1}]}
"""


def test_without_a_summary_the_headline_is_the_first_sentence():
    assert parse_scenario(BASE).headline() == "First sentence of a long description"


@pytest.mark.parametrize(
    ("summary", "problem"),
    [
        ('"two\\nlines"', "summary: String should match pattern"),
        ("x" * 101, "summary: String should have at most 100 characters"),
        ('"  "', "summary: String should match pattern"),
    ],
)
def test_a_summary_is_one_short_line(summary, problem):
    with pytest.raises(ScenarioError, match=f"<scenario>:2: {problem}"):
        parse_scenario(BASE.replace("name: t\n", f"name: t\nsummary: {summary}\n"))


# --- where the data is ------------------------------------------------------------------------


def test_public_url_drops_every_password_and_keeps_the_rest(tmp_path, monkeypatch):
    pg = "postgresql+psycopg://shop:s3cret@127.0.0.1:5432/shop?password=again&sslmode=disable"
    assert public_url(pg) == "postgresql+psycopg://shop@127.0.0.1:5432/shop?sslmode=disable"
    monkeypatch.chdir(tmp_path)
    assert public_url("sqlite:///rel/x.db") == f"sqlite:///{tmp_path.resolve()}/rel/x.db"
    assert public_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"


def test_the_manifest_keeps_the_command_without_passwords():
    argv = ["gameday", "x", "--db", "postgresql://u:pw@127.0.0.1/db", "--db=postgresql://u:pw@h/d"]
    assert [shown(a) for a in argv] == [
        "gameday",
        "x",
        "--db",
        "postgresql://u@127.0.0.1/db",
        "--db=postgresql://u@h/d",
    ]
    assert shown("http://127.0.0.1:8100") == "http://127.0.0.1:8100"
    assert shown("x://@@:") == "x://@@:"  # not a database URL: left as it is


def test_configured_locations_are_the_urls_the_services_use(settings):
    where = configured(settings)
    assert list(where) == list(SERVICE_NAMES)
    for name in SERVICE_NAMES:
        assert where[name] == settings.database_url(name)
        assert where[name].startswith("sqlite:////")


def _healthz(store, service, *, operator, remote="127.0.0.1", headers=None):
    environ = {"REMOTE_ADDR": remote} | ({OPERATOR_PORT_ENVIRON: True} if operator else {})
    response = store.client(service).get(
        "/healthz", environ_overrides=environ, headers=headers or {}
    )
    assert response.status_code == 200
    return response.get_json()


def test_operators_learn_where_each_service_keeps_its_data(store):
    for name in SERVICE_NAMES:
        body = _healthz(store, name, operator=True)
        assert body["database_url"] == store.settings.database_url(name)


def test_only_operators_learn_it(store):
    assert "database_url" not in _healthz(store, "payment", operator=False)
    assert "database_url" not in _healthz(store, "payment", operator=True, remote="192.0.2.7")


def test_with_a_chaos_token_only_its_bearer_learns_it(settings, seeded_sqlite):
    import shutil

    from tests.conftest import Store, generate

    shutil.copytree(seeded_sqlite, settings.run_dir)
    store = Store(settings.replace(chaos_token="t0ken"), generate(1))
    try:
        assert "database_url" not in _healthz(store, "cart", operator=True)
        bearer = _healthz(store, "cart", operator=True, headers={TOKEN_HEADER: "t0ken"})
        assert bearer["database_url"] == settings.database_url("cart")
    finally:
        store.close()
