"""`Settings.hooks`: off, a service serves without RED metrics and without fault switch points
(the bench's hook-overhead baseline); on, the default, both work."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopsim.metrics.catalogue import common
from shopsim.seed import generate
from shopsim.settings import Settings
from tests.conftest import Store
from tests.faults.conftest import add_fault

ROUTE = {"service": "catalog", "route": "/products/<sku>", "method": "GET", "status": "200"}
ERROR_503 = {"type": "error", "target": "catalog", "duration_s": 60, "params": {"status": 503}}


@pytest.fixture(params=[True, False], ids=["hooks_on", "hooks_off"])
def hooked_store(request, settings: Settings, seeded_sqlite: Path) -> Iterator[Store]:
    shutil.copytree(seeded_sqlite, settings.run_dir)
    s = Store(settings.replace(hooks=request.param), generate(1))
    yield s
    s.close()


def test_hooks_default_on() -> None:
    assert Settings().hooks is True


def test_hooks_switch_turns_metrics_and_faults_off(hooked_store: Store) -> None:
    hooks = hooked_store.settings.hooks
    client = hooked_store.client("catalog")
    assert client.get("/products/SKU-0001").status_code == 200
    served = hooked_store.metric("catalog", common.HTTP_REQUESTS.name, ROUTE)
    assert served == (1.0 if hooks else 0.0)
    add_fault(hooked_store, ERROR_503)  # the chaos API still takes it
    assert client.get("/products/SKU-0001").status_code == (503 if hooks else 200)
