"""gateway_timeout_after_capture: payment captures, then answers too late; the caller times out.

In-process, `httpx.WSGITransport` ignores timeouts (the caller would just wait), so checkout's
calls to payment go through `Deadline`: the same in-process app, run in a thread of its own, with
the caller's read timeout enforced as a socket would (ReadTimeout, while the gateway finishes
its work regardless). One test repeats the story with real gunicorn processes and real sockets.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from shopsim.faults.control import ChaosClient
from shopsim.services.checkout.attempts import order_id_for
from shopsim.services.payment.tables import idempotency
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire, wait_for

SPEC = {"type": "gateway_timeout_after_capture", "target": "payment", "duration_s": 60.0}
FAULT = {"fault": "gateway_timeout_after_capture"}
INJECTIONS = "shopsim_fault_injections_total"
CAPTURE_ROUTE = "/authorizations/<authorization_id>/capture"


class Deadline(httpx.BaseTransport):
    """An in-process transport on which exactly the answers the gateway holds time out.

    A capture on which the fault fires commits its charge, then holds its answer for hang_s,
    longer than the caller's read timeout: that call ends in ReadTimeout as soon as its work is
    committed, while the gateway goes on holding. Every other call (an authorization, a replayed
    capture, a void, the ledger) gets its answer however long a busy machine takes to give it,
    so how many calls time out never depends on the machine's speed.
    """

    def __init__(self, app: Any) -> None:
        self._inner = httpx.WSGITransport(app=app)
        self._ctx = app.extensions["shopsim"]
        self.threads: list[threading.Thread] = []
        self.timeouts = 0

    def _held(self) -> float:
        value = self._ctx.metrics.registry.get_sample_value(INJECTIONS, FAULT)
        return 0.0 if value is None else float(value)

    def _committed(self, key: str) -> bool:
        with self._ctx.db.read() as conn:
            found = select(idempotency.c.state).where(idempotency.c.key == key)
            return conn.execute(found).scalar_one_or_none() == "done"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        done: dict[str, Any] = {}
        held_before = self._held()

        def serve() -> None:
            try:
                response = self._inner.handle_request(request)
                response.read()
                done["response"] = response
            except BaseException as exc:  # handed to the caller below
                done["error"] = exc

        worker = threading.Thread(target=serve, name="deadline-serve")
        self.threads.append(worker)
        worker.start()
        key = request.headers.get("Idempotency-Key", "")
        give_up = time.monotonic() + 60  # an upper bound on waiting, never a verdict
        while worker.is_alive():
            held = self._held() > held_before
            if held and self._committed(key):  # paid, and the answer is being held
                break
            assert time.monotonic() < give_up, f"no answer to {request.url.path}"
            worker.join(0.005)
        if self._held() > held_before:  # the answer comes hang_s late: past the timeout
            self.timeouts += 1
            raise httpx.ReadTimeout("no answer within the read timeout", request=request)
        if "error" in done:
            raise done["error"]
        return done["response"]

    def join(self) -> None:
        """Wait for every request the caller gave up on to finish at the gateway."""
        for worker in self.threads:
            worker.join(timeout=60)
        assert not any(w.is_alive() for w in self.threads)


def _policy(store, **change: Any) -> None:
    body = {"dependencies": {"payment": change}}
    response = store.client("checkout").put("/_chaos/resilience", json=body, environ_base=LOOPBACK)
    assert response.status_code == 200, response.get_json()


def _checkout_body(store, i: int) -> dict[str, Any]:
    customer = store.data.customers[i]
    return {
        "customer_id": customer.id,
        "idempotency_key": f"gto-{i}",
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
        "items": [{"sku": "SKU-0003", "quantity": 1}],
    }


def _authorization(store, key: str) -> str:
    body = {"amount_cents": 500, "currency": "USD", "card_token": "tok_visa", "reference": key}
    response = store.client("payment").post(
        "/authorizations", json=body, headers={"Idempotency-Key": f"{key}-a"}
    )
    assert response.status_code == 201
    return str(response.get_json()["authorization_id"])


def _capture(store, key: str, authorization_id: str) -> Any:
    """Capture directly at the gateway; the response."""
    return store.client("payment").post(
        f"/authorizations/{authorization_id}/capture", headers={"Idempotency-Key": f"{key}-c"}
    )


def _held(store) -> float:
    """Captures the fault has held."""
    return store.metric("payment", "shopsim_fault_injections_total", FAULT)


def _captured(store, le: str) -> float:
    """Captures payment answered within `le` seconds."""
    labels = {"service": "payment", "route": CAPTURE_ROUTE, "method": "POST", "le": le}
    return store.metric("payment", "shopsim_http_request_duration_seconds_bucket", labels)


def _charges(store, reference: str) -> list[dict[str, Any]]:
    response = store.client("payment").get("/charges", query_string={"reference": reference})
    return response.get_json()["charges"]


def _timeouts(store) -> float:
    """Checkout's calls to payment that ended in a timeout."""
    labels = {"service": "checkout", "dependency": "payment", "outcome": "timeout"}
    return store.metric("checkout", "shopsim_dependency_requests_total", labels)


def test_gateway_timeout_at_p0_never_holds_an_answer(chaos):
    add_fault(chaos, SPEC | {"probability": 0.0, "params": {"hang_s": 120.0}})
    for i in range(30):
        response = _capture(chaos, f"p0-{i}", _authorization(chaos, f"p0-{i}"))
        assert response.status_code == 200
    assert _held(chaos) == 0
    assert _captured(chaos, "30.0") == 30  # one hold alone would take two minutes


def test_gateway_timeout_writes_the_charge_then_holds_the_answer(chaos):
    add_fault(chaos, SPEC | {"probability": 1.0, "params": {"hang_s": 3.0}})
    auth = _authorization(chaos, "hold")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_capture, chaos, "hold", auth)
        wait_for(lambda: _charges(chaos, "hold"), what="the charge written")  # paid...
        assert not pending.done()  # ...and still no answer (it is 3 s away)
        assert [c["authorization_id"] for c in _charges(chaos, "hold")] == [auth]
        status = chaos.client("payment").get(f"/authorizations/{auth}").get_json()["status"]
        assert status == "captured"
        response = pending.result()
    assert response.status_code == 200
    assert response.get_json()["charge_id"] == _charges(chaos, "hold")[0]["charge_id"]
    assert _captured(chaos, "2.5") == 0  # payment's own histogram: held its 3 s
    assert _held(chaos) == 1
    # A retry under the same key is answered from the idempotency store, not held again.
    again = _capture(chaos, "hold", auth)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _held(chaos) == 1 and _captured(chaos, "2.5") == 1
    assert len(_charges(chaos, "hold")) == 1


def test_timed_out_capture_is_settled_by_void_with_one_charge(chaos):
    add_fault(chaos, SPEC | {"probability": 1.0, "params": {"hang_s": 2.0}})
    _policy(chaos, timeout_s=1.0, retries=0)  # no retry: the saga's void must settle it
    body = _checkout_body(chaos, 1)
    order_id = order_id_for(body["customer_id"], body["idempotency_key"])
    deadline = Deadline(chaos.apps["payment"])
    with chaos.transport("checkout", "payment", deadline):
        response = chaos.client("checkout").post("/checkouts", json=body)
    deadline.join()
    assert deadline.timeouts == 1 and _timeouts(chaos) == 1  # checkout saw the capture time out
    assert response.status_code == 201, response.get_json()
    charges = _charges(chaos, order_id)
    assert len(charges) == 1
    order = chaos.client("checkout").get(f"/orders/{order_id}").get_json()
    assert order["status"] == "confirmed"
    assert order["charge_id"] == charges[0]["charge_id"]  # found in the ledger, not the answer
    void = {"operation": "void", "outcome": "conflict"}  # the void answered already_captured
    assert chaos.metric("payment", "shopsim_payment_operations_total", void) == 1
    assert chaos.metric("payment", "shopsim_fault_injections_total", FAULT) == 1


def test_timed_out_capture_retried_under_its_key_is_replayed_with_one_charge(chaos):
    add_fault(chaos, SPEC | {"probability": 1.0, "params": {"hang_s": 2.0}})
    _policy(chaos, timeout_s=1.0, retries=2, backoff="none")
    deadline = Deadline(chaos.apps["payment"])
    orders = []
    with chaos.transport("checkout", "payment", deadline):
        for i in range(3):
            body = _checkout_body(chaos, 10 + i)
            response = chaos.client("checkout").post("/checkouts", json=body)
            assert response.status_code == 201, response.get_json()
            orders.append(response.get_json()["order_id"])
    deadline.join()
    assert deadline.timeouts == 3 and _timeouts(chaos) == 3
    assert [len(_charges(chaos, o)) for o in orders] == [1, 1, 1]
    replays = {"operation": "capture"}
    assert chaos.metric("payment", "shopsim_payment_idempotent_replays_total", replays) == 3
    captures = {"operation": "capture", "outcome": "approved"}
    assert chaos.metric("payment", "shopsim_payment_operations_total", captures) == 3


def test_gateway_timeout_rate_at_p03_is_binomial(chaos):
    add_fault(chaos, SPEC | {"probability": 0.3, "params": {"hang_s": 0.5}})
    n = 200
    auths = [_authorization(chaos, f"rate-{i}") for i in range(n)]

    def capture(i: int) -> float:
        response = _capture(chaos, f"rate-{i}", auths[i])
        assert response.status_code == 200
        return time.time()  # when the answer arrived (wall clock, as the ledger's created_at)

    with ThreadPoolExecutor(max_workers=25) as pool:
        answered = dict(zip(auths, pool.map(capture, range(n)), strict=True))
    ledger = chaos.client("payment").get("/charges", query_string={"limit": 1000}).get_json()
    assert len(ledger["charges"]) == n  # every capture happened, held or not
    held = _held(chaos)
    low, high = binomial_bounds(n, 0.3)
    assert low <= held <= high, held
    # Every capture it fired on answered >= hang_s after its charge was written (a busy machine
    # may make others late too, never these early).
    late = sum(answered[c["authorization_id"]] - c["created_at"] >= 0.45 for c in ledger["charges"])
    assert late >= held


def test_gateway_timeout_removal_and_expiry_restore_prompt_answers(chaos):
    fault = add_fault(chaos, SPEC | {"probability": 1.0, "params": {"hang_s": 0.3}})
    assert _capture(chaos, "r1", _authorization(chaos, "r1")).status_code == 200
    assert _held(chaos) == 1
    payment = chaos.client("payment")
    assert (
        payment.delete(f"/_chaos/faults/{fault['name']}", environ_base=LOOPBACK).status_code == 200
    )
    assert _capture(chaos, "r2", _authorization(chaos, "r2")).status_code == 200
    assert _held(chaos) == 1  # not held
    fault = add_fault(chaos, SPEC | {"probability": 1.0, "params": {"hang_s": 0.3}})
    assert _capture(chaos, "r3", _authorization(chaos, "r3")).status_code == 200
    assert _held(chaos) == 2
    expire(chaos, fault["name"])
    assert _capture(chaos, "r4", _authorization(chaos, "r4")).status_code == 200
    assert _held(chaos) == 2  # not held
    assert _captured(chaos, "0.25") <= 2  # the two held ones took their 0.3 s
    active = {"fault": "gateway_timeout_after_capture", "target": "payment"}
    assert chaos.metric("payment", "shopsim_fault_active", active) == 0


def _remove(store, name: str) -> None:
    response = store.client("payment").delete(f"/_chaos/faults/{name}", environ_base=LOOPBACK)
    assert response.status_code == 200


def _reset(store, _name: str) -> None:
    response = store.client("payment").post("/_chaos/reset", json={}, environ_base=LOOPBACK)
    assert response.get_json()["removed"] == 1


def _expire(store, name: str) -> None:
    expire(store, name)
    store.ctx("payment").faults.purge()  # what the service's expiry sweeper does


@pytest.mark.parametrize("end", [_remove, _reset, _expire], ids=["removal", "reset", "expiry"])
def test_gateway_timeout_end_lets_the_answers_it_holds_go_at_once(chaos, end):
    fault = add_fault(chaos, SPEC | {"probability": 1.0, "params": {"hang_s": 120.0}})
    keys = [f"let-go-{i}" for i in range(3)]
    auths = [_authorization(chaos, key) for key in keys]
    with ThreadPoolExecutor(max_workers=3) as pool:
        pending = [pool.submit(_capture, chaos, k, a) for k, a in zip(keys, auths, strict=True)]
        wait_for(
            lambda: _held(chaos) == 3 and all(_charges(chaos, k) for k in keys),
            what="three captures paid and their answers held",
        )
        assert not any(p.done() for p in pending)  # two minutes away
        end(chaos, fault["name"])
        answers = [p.result(timeout=60) for p in pending]  # not 120 s: the end lets them go
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [len(_charges(chaos, k)) for k in keys] == [1, 1, 1]
    assert _captured(chaos, "30.0") == 3  # none waited out its two minutes
    assert _held(chaos) == 3


def test_gateway_timeout_hang_out_of_range_is_400(chaos):
    for hang_s in (0.05, 121, "5"):
        spec = SPEC | {"params": {"hang_s": hang_s}}
        response = chaos.client("payment").post("/_chaos/faults", json=spec, environ_base=LOOPBACK)
        assert response.status_code == 400, hang_s
        assert response.get_json()["error"]["field"] == "params.hang_s"


@pytest.mark.processes
def test_gateway_timeout_against_real_processes_leaves_one_charge(live_settings, start_stack):
    policies = dict(live_settings.dependencies)
    policies["checkout->payment"] = dataclasses.replace(
        policies["checkout->payment"], timeout_s=1.5, retries=0
    )
    settings = live_settings.replace(dependencies=policies)
    start_stack(settings)
    with ChaosClient(settings) as chaos:
        chaos.add(SPEC | {"probability": 1.0, "params": {"hang_s": 4.0}})
    customer = 3
    body = {
        "customer_id": customer,
        "idempotency_key": "live-gto",
        "card_token": "tok_visa",
        "email": "live@example.com",
        "name": "Live Buyer",
        "items": [{"sku": "SKU-0003", "quantity": 1}],
    }
    with httpx.Client(timeout=30.0) as http:
        response = http.post(f"{settings.url('checkout')}/checkouts", json=body)
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
        charges = http.get(
            f"{settings.url('payment')}/charges", params={"reference": order_id}
        ).json()["charges"]
        order = http.get(f"{settings.url('checkout')}/orders/{order_id}").json()
        scrape = http.get(f"{settings.url('checkout')}/metrics").text
    assert len(charges) == 1
    assert order["status"] == "confirmed" and order["charge_id"] == charges[0]["charge_id"]
    timed_out = {"service": "checkout", "dependency": "payment", "outcome": "timeout"}
    assert _scraped(scrape, "shopsim_dependency_requests_total", timed_out) == 1


def _scraped(text: str, name: str, labels: dict[str, str]) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0
