"""Helpers for the per-fault-type tests: install faults through the real chaos API of the
in-process store, and the binomial bound the observed firing rate must fall within."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from shopsim.services.payment.tables import authorizations as auth_table

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def add_fault(store: Any, spec: dict[str, Any], status: int = 201) -> dict[str, Any]:
    """Install `spec` on every service of the store (as `shopsim fault add` does).

    Asserts the target (or, for outbound faults, at least one caller) applied it and returns
    the listing of the first service that did."""
    applied = None
    name = None
    for service in store.apps:  # build every app first, so the posts below follow at once
        store.apps[service]
    for service in store.apps:
        body = dict(spec, name=name) if name else spec
        response = store.client(service).post("/_chaos/faults", json=body, environ_base=LOOPBACK)
        assert response.status_code in (200, 201), response.get_json()
        name = response.get_json().get("name") or response.get_json()["fault"]["name"]
        if response.status_code == 201 and applied is None:
            applied = response.get_json()["fault"]
    assert (applied is not None) == (status == 201), "no service applied the fault"
    return applied or {}


def buy(store: Any, key: str) -> Any:
    """A direct checkout of one SKU-0001 by a seeded customer (no cart)."""
    customer = store.data.customers[4]
    body = {
        "customer_id": customer.id,
        "idempotency_key": key,
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
        "items": [{"sku": "SKU-0001", "quantity": 1}],
    }
    return store.client("checkout").post("/checkouts", json=body)


def authorizations(store: Any) -> int:
    """How many authorizations payment has written."""
    with store.ctx("payment").db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(auth_table)).scalar_one())


def reset_faults(store: Any) -> None:
    """Remove every fault from every service (and undo resilience changes)."""
    for service in store.apps:
        response = store.client(service).post("/_chaos/reset", json={}, environ_base=LOOPBACK)
        assert response.status_code == 200, response.get_json()


def expire(store: Any, name: str) -> None:
    """Bring fault `name`'s end forward to now wherever it is active, as if its duration were up.

    Expiry tests use it instead of sleeping past a short duration: a short fault can end
    before a slow machine has shown its effect, a long one that is expired on cue cannot. The
    service still does the rest itself (purge, gauges, stopping threads, letting holds go).
    Tests in test_fault_api.py let real time run out too."""
    now = time.monotonic()
    found = False
    for service in store.apps:
        for fault in store.ctx(service).faults.active():
            if fault.spec.name == name:
                fault.expires_at, found = now, True
    assert found, f"no active fault named {name!r}"


def wait_for(condition: Callable[[], Any], timeout_s: float = 30.0, what: str = "") -> Any:
    """Poll `condition` until it is true and return its value; fail after a generous deadline.

    The deadline only ends a test that would otherwise wait forever: a busy machine makes the
    wait longer, never the test red."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s:g}s: {what or condition}")
        time.sleep(0.01)
    return value


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` served over real HTTP on a free loopback port, from a thread; yields its URL."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def binomial_bounds(n: int, p: float, z: float = 4.5) -> tuple[float, float]:
    """A range the number of successes in n Bernoulli(p) trials leaves with odds ~1e-5."""
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


@pytest.fixture
def chaos(store: Any) -> Any:
    """The store, with every fault removed afterwards."""
    yield store
    reset_faults(store)
