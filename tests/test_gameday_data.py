"""Where a game day's data is: `--db` runs on fresh tables, and the manifest says, per service,
the SQLAlchemy URL each database has (never a password), for a started or a --target store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shopsim.settings import SERVICE_NAMES, Settings
from tests.conftest import JUDGED, assert_all_gone, free_port_base

pytestmark = [pytest.mark.processes, pytest.mark.load]

SCENARIO = "steady-baseline"  # the control run: no faults, ends with exit status 0
SECRET = "not-a-secret-but-never-shown"


def _gameday(cwd: Path, port_base: int, *extra: str) -> tuple[dict[str, Any], str]:
    """Run a built-in game day at 30x; return its manifest and what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "shopsim", "gameday", SCENARIO, "--time-scale", "30"]
        + ["--out", "runs", "--port-base", str(port_base), *extra],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=240,
    )
    printed = done.stdout + done.stderr
    assert done.returncode in JUDGED, printed
    (run,) = (cwd / "runs").iterdir()
    return json.loads((run / "manifest.json").read_text()), printed


@pytest.mark.postgres
def test_gameday_on_postgres_builds_fresh_tables_and_records_the_url(tmp_path, pg_url):
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:  # a leftover of another shape under a service's table name
        conn.execute(sa.text("CREATE TABLE catalog_products (junk integer)"))
        conn.execute(sa.text("INSERT INTO catalog_products VALUES (1)"))
    # trust authentication ignores the password, so it can stand in for a real one here
    with_password = pg_url.replace("postgres@", f"postgres:{SECRET}@")
    port_base = free_port_base()
    try:
        manifest, printed = _gameday(tmp_path, port_base, "--db", with_password)
        with engine.connect() as conn:
            products = conn.execute(sa.text("SELECT count(*) FROM catalog_products")).scalar()
            customers = conn.execute(sa.text("SELECT count(*) FROM storefront_customers")).scalar()
            columns = sa.inspect(conn).get_columns("catalog_products")
    finally:
        engine.dispose()
    assert manifest["outcome"]["status"] == "completed"
    assert manifest["db_url"] == pg_url  # postgresql+psycopg://postgres@127.0.0.1:5432/<name>
    assert manifest["databases"] == {name: pg_url for name in SERVICE_NAMES}
    run = next((tmp_path / "runs").iterdir())
    assert SECRET not in (run / "manifest.json").read_text() and SECRET not in printed
    assert (products, customers) == (125, 200)  # seeded on PostgreSQL, the leftover gone
    assert "junk" not in {c["name"] for c in columns}
    assert not list((run / "store").glob("*.db"))  # no SQLite on the side
    assert_all_gone(Settings(port_base=port_base), [])


def test_gameday_on_a_running_store_records_where_its_data_is(tmp_path, live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    for name in SERVICE_NAMES:  # operators ask the side port; customers' port does not say
        side = httpx.get(f"{settings.operator_url(name)}/healthz").json()
        assert side["database_url"] == settings.database_url(name)
        assert "database_url" not in httpx.get(f"{settings.url(name)}/healthz").json()
    manifest, _ = _gameday(tmp_path, free_port_base(), "--target", settings.url("storefront"))
    assert manifest["store"] == "running store (--target)"
    assert manifest["db_url"] is None
    assert manifest["databases"] == {n: settings.database_url(n) for n in SERVICE_NAMES}
    for url in manifest["databases"].values():  # the audit opens exactly these files
        assert Path(url.removeprefix("sqlite:///")).is_file()


def test_gameday_started_store_records_its_sqlite_files(tmp_path):
    port_base = free_port_base()
    manifest, _ = _gameday(tmp_path, port_base)
    store = next((tmp_path / "runs").iterdir()) / "store"
    assert manifest["db_url"] is None
    assert manifest["databases"] == {
        name: f"sqlite:///{(store / f'{name}.db').resolve()}" for name in SERVICE_NAMES
    }
    assert all((store / f"{name}.db").is_file() for name in SERVICE_NAMES)
    assert_all_gone(Settings(port_base=port_base), [])
