"""A checkout process killed with SIGKILL after the card was captured, then started again on the
same port with the same data: the customer's retry with the same idempotency key gets the
confirmed order, with one charge, one order and the stock taken once.

The kill lands at a known step: the gateway captures and then holds its answer (the
gateway_timeout_after_capture fault), checkout waits for it with a timeout longer than the
hold, and the test kills checkout once the charge is in the gateway's ledger."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shopsim.db import Database
from shopsim.faults.control import ChaosClient
from shopsim.services.checkout import tables as checkout_tables
from shopsim.services.checkout.attempts import order_id_for
from shopsim.services.payment import tables as payment_tables
from shopsim.settings import Settings
from tests.conftest import wait_for

pytestmark = pytest.mark.processes

HANG_S = 120.0  # the held answer outlasts any wait before the kill
HOLD = {
    "type": "gateway_timeout_after_capture",
    "target": "payment",
    "probability": 1.0,
    "duration_s": 600,
    "params": {"hang_s": HANG_S},
}
CUSTOMER, KEY, SKU = 7, "crash-1", "SKU-0003"


def _settings(live_settings: Settings) -> Settings:
    """checkout waits for the held capture longer than the hold: only the kill ends its wait."""
    policies = dict(live_settings.dependencies)
    policies["checkout->payment"] = dataclasses.replace(
        policies["checkout->payment"], timeout_s=HANG_S + 60
    )
    return live_settings.replace(dependencies=policies)


def _rows(settings: Settings, service: str, table: Any, *where: Any) -> list[Any]:
    """Rows straight from a service's database, whether or not the service is running."""
    db = Database(settings.database_url(service), table.metadata, pool_size=1)
    try:
        with db.read() as conn:
            return list(conn.execute(select(table).where(*where)).fetchall())
    finally:
        db.dispose()


def _charges(http: httpx.Client, settings: Settings, order_id: str) -> list[dict[str, Any]]:
    url = f"{settings.url('payment')}/charges"
    charges: list[dict[str, Any]] = http.get(url, params={"reference": order_id}).json()["charges"]
    return charges


def _retry_until_answered(
    http: httpx.Client, url: str, body: dict[str, Any]
) -> tuple[httpx.Response, int]:
    """Retry as a client honouring 409 in_use / 503 would; the answer and how many were refused."""
    refused = []

    def answered() -> httpx.Response | None:
        response = http.post(url, json=body)
        if response.status_code in (409, 503):
            code = response.json()["error"]["code"]
            assert code in ("idempotency_key_in_use", "checkout_incomplete"), response.text
            refused.append(code)
            return None
        return response

    # Generous, yet far below what a takeover by age alone would need (it must outlast the
    # slowest saga: minutes), so this fails unless the dead process's lease is what runs out.
    return wait_for(answered, "the retry to be answered", 60.0, every_s=0.25), len(refused)


def test_checkout_killed_after_capture_is_finished_by_a_retry_once_restarted(
    live_settings, start_stack
):
    settings = _settings(live_settings)
    stack = start_stack(settings)
    with ChaosClient(settings) as chaos:
        chaos.add(HOLD)
    order_id = order_id_for(CUSTOMER, KEY)
    customer = {"email": "crash@example.com", "name": "Crash Tester"}
    body = {"customer_id": CUSTOMER, "idempotency_key": KEY, "card_token": "tok_visa"}
    body |= customer | {"items": [{"sku": SKU, "quantity": 1}]}
    checkouts = f"{settings.url('checkout')}/checkouts"
    attempts, orders = checkout_tables.attempts, checkout_tables.orders

    with (
        httpx.Client(timeout=30.0) as http,
        httpx.Client(timeout=HANG_S + 120) as patient,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        stock = http.get(f"{settings.url('inventory')}/stock/{SKU}").json()
        first = pool.submit(patient.post, checkouts, json=body)
        charged = wait_for(lambda: _charges(http, settings, order_id), "the capture at the gateway")
        # Held after the capture: paid at the gateway, the order pending, checkout waiting.
        assert not first.done()
        assert http.get(f"{settings.url('checkout')}/orders/{order_id}").json()["status"] == (
            "pending"
        )
        busy = http.post(checkouts, json=body)  # a retry meanwhile does not take it over
        assert busy.status_code == 409
        assert busy.json()["error"]["code"] == "idempotency_key_in_use"

        stack.kill("checkout")
        with pytest.raises(httpx.TransportError):  # the customer's connection dropped
            first.result()
        (attempt,) = _rows(settings, "checkout", attempts, attempts.c.idempotency_key == KEY)
        assert (attempt.state, attempt.step) == ("running", "capture")  # what the crash left
        (left,) = _rows(settings, "checkout", orders, orders.c.id == order_id)
        assert (left.status, left.captured) == ("pending", False)

        stack.restart("checkout")
        restarted = time.monotonic()
        answer, refused = _retry_until_answered(http, checkouts, body)
        took = time.monotonic() - restarted
        print(f"\nrestarted checkout answered the retry after {took:.1f}s, {refused} refused")
        assert answer.status_code == 201, answer.text
        assert (answer.json()["order_id"], answer.json()["status"]) == (order_id, "confirmed")

        # Integrity: one order, one charge (the one captured before the kill), stock taken once.
        charges = _charges(http, settings, order_id)
        assert [c["charge_id"] for c in charges] == [charged[0]["charge_id"]]
        mine = http.get(f"{settings.url('checkout')}/orders", params={"customer_id": CUSTOMER})
        listed = mine.json()["orders"]
        assert [(o["order_id"], o["status"]) for o in listed] == [(order_id, "confirmed")]
        assert listed[0]["charge_id"] == charges[0]["charge_id"]
        auths = payment_tables.authorizations
        held = _rows(settings, "payment", auths, auths.c.reference == order_id)
        assert [a.status for a in held] == ["captured"]
        after = http.get(f"{settings.url('inventory')}/stock/{SKU}").json()
        assert (after["on_hand"], after["reserved"]) == (stock["on_hand"] - 1, stock["reserved"])
        mail = wait_for(
            lambda: http.get(
                f"{settings.url('notifications')}/mail",
                params={"event_id": f"order-confirmation:{order_id}"},
            ).json()["mail"],
            "the confirmation mail",
        )
        assert len(mail) == 1
        again = http.post(checkouts, json=body)
        assert (again.status_code, again.json()) == (201, answer.json())
        stack.kill("payment")  # its held answer would make a graceful stop wait out the hold
