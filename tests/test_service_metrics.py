"""The metrics every service shares, moved by real requests through the in-process store:
5xx by cause, whole-call dependency time, and the process's CPU and memory."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shopsim.metrics.catalogue import common
from shopsim.metrics.catalogue.values import SERVER_ERROR_CAUSES
from shopsim.seed import generate
from shopsim.settings import Settings
from tests.conftest import Store, wait_for
from tests.faults.conftest import add_fault, reset_faults

ERRORS = common.HTTP_SERVER_ERRORS.name
PRODUCT_ROUTE = "/products/<sku>"


def causes(store: Store, service: str, route: str) -> dict[str, float]:
    """The service's 5xx on `route`, by cause."""
    labels = {"service": service, "route": route}
    return {c: store.metric(service, ERRORS, labels | {"cause": c}) for c in SERVER_ERROR_CAUSES}


def edge(store: Store, metric: str, suffix: str) -> float:
    labels = {"service": "storefront", "dependency": "catalog"}
    return store.metric("storefront", f"{metric}_{suffix}", labels)


def failing_catalog(store: Store) -> None:
    spec = {"type": "error", "target": "catalog", "probability": 1.0, "duration_s": 60}
    add_fault(store, spec | {"params": {"status": 503}})


def test_server_errors_exist_at_zero_for_every_route_and_cause(store):
    assert causes(store, "catalog", PRODUCT_ROUTE) == dict.fromkeys(SERVER_ERROR_CAUSES, 0.0)
    route = "/api/customers/<int:customer_id>/cart"
    assert causes(store, "storefront", route) == dict.fromkeys(SERVER_ERROR_CAUSES, 0.0)


def test_a_failing_dependency_is_own_there_and_dependency_at_its_callers(store):
    failing_catalog(store)
    try:
        assert store.client("storefront").get("/api/products/SKU-0001").status_code == 503
        assert store.client("storefront").get("/products/SKU-0001").status_code == 503  # dog
    finally:
        reset_faults(store)
    attempts = edge(store, common.DEPENDENCY_DURATION.name, "count")
    assert attempts == 6  # two calls of three attempts each (two retries on a 503)
    assert causes(store, "catalog", PRODUCT_ROUTE) == {"dependency": 0, "overload": 0, "own": 6}
    api = causes(store, "storefront", "/api/products/<sku>")
    page = causes(store, "storefront", PRODUCT_ROUTE)
    assert api == page == {"dependency": 1, "overload": 0, "own": 0}


def test_an_unhandled_error_is_the_services_own(store, monkeypatch):
    from shopsim.services.storefront import shop

    def broken(ctx: Any, sku: str) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(shop, "product", broken)
    assert store.client("storefront").get("/api/products/SKU-0001").status_code == 500
    assert causes(store, "storefront", "/api/products/<sku>") == {
        "dependency": 0,
        "overload": 0,
        "own": 1,
    }


@pytest.fixture
def tight(settings: Settings, seeded_sqlite: Path) -> Any:
    """The store with catalog admitting one request at a time."""
    settings = settings.replace(admission_max_in_flight={"catalog": 1})
    shutil.copytree(seeded_sqlite, settings.run_dir)
    store = Store(settings, generate(1))
    yield store
    store.close()


def test_admission_controls_503_is_overload(tight):
    slow = {"name": "slow", "type": "latency", "target": "catalog", "duration_s": 60}
    add_fault(tight, slow | {"probability": 1.0, "params": {"ms": 120_000}})
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(lambda: tight.client("catalog").get("/products/SKU-0001"))
        wait_for(lambda: tight.ctx("catalog").admission.in_flight == 1, "one request held")
        refused = tight.client("catalog").get("/products/SKU-0002")
        reset_faults(tight)  # lets the held request go
        assert held.result(timeout=60).status_code == 200
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "overloaded"
    assert causes(tight, "catalog", PRODUCT_ROUTE) == {"dependency": 0, "overload": 1, "own": 0}


def test_a_whole_call_is_timed_once_over_all_its_attempts(store):
    call = common.DEPENDENCY_CALL_DURATION.name
    attempt = common.DEPENDENCY_DURATION.name
    assert edge(store, call, "count") == 0
    assert store.client("storefront").get("/api/products/SKU-0001").status_code == 200
    assert edge(store, call, "count") == edge(store, attempt, "count") == 1
    failing_catalog(store)
    try:
        assert store.client("storefront").get("/api/products/SKU-0001").status_code == 503
    finally:
        reset_faults(store)
    assert edge(store, call, "count") == 2  # one more call ...
    assert edge(store, attempt, "count") == 4  # ... of three attempts
    retries = common.DEPENDENCY_RETRIES.name
    assert store.metric("storefront", retries, {"service": "storefront", "dependency": "catalog"})
    # the call holds its attempts and the backoff sleeps between them
    assert edge(store, call, "sum") >= edge(store, attempt, "sum")


def test_process_cpu_seconds_grow_with_work(store):
    name = common.PROCESS_CPU.name
    before = store.metric("catalog", name)
    started = time.process_time()
    while time.process_time() - started < 0.3:  # burn CPU, however long that takes
        sum(i * i for i in range(10_000))
    assert store.metric("catalog", name) >= before + 0.2


def test_process_resident_memory_grows_with_what_it_holds(store):
    name = common.PROCESS_RESIDENT_MEMORY.name
    before = store.metric("cart", name)
    held = b"\x01" * (64 << 20)  # written, so resident
    after = store.metric("cart", name)
    assert len(held) and after - before >= 48 << 20
    for service in ("catalog", "cart"):
        assert store.metric(service, common.PROCESS_OPEN_FDS.name) > 0
