"""Helpers for the per-fault-type tests: install faults through the real chaos API of the
in-process store, and the binomial bound the observed firing rate must fall within."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import func, select

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
    """Remove every fault from every service."""
    for service in store.apps:
        store.client(service).post("/_chaos/reset", environ_base=LOOPBACK)


def binomial_bounds(n: int, p: float, z: float = 4.5) -> tuple[float, float]:
    """A range the number of successes in n Bernoulli(p) trials leaves with odds ~1e-5."""
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


@pytest.fixture
def chaos(store: Any) -> Any:
    """The store, with every fault removed afterwards."""
    yield store
    reset_faults(store)
