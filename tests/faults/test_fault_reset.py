"""reset: the target does the work, then the connection drops while the answer is on its way.
Inbound under the test client (no socket) the answer is cut short; outbound the caller's client
raises. Either way the caller cannot tell the work was done: only idempotency keys save it."""

from __future__ import annotations

from sqlalchemy import select

from shopsim.services.checkout.attempts import order_id_for
from shopsim.services.payment.tables import authorizations
from tests.faults.conftest import LOOPBACK, add_fault, binomial_bounds, expire

PRODUCT = "/products/SKU-0001"
INJECTIONS = "shopsim_fault_injections_total"


def _dep(store, outcome: str) -> float:
    labels = {"service": "checkout", "dependency": "payment", "outcome": outcome}
    return store.metric("checkout", "shopsim_dependency_requests_total", labels)


def _served(store, route: str, status: str) -> float:
    labels = {"service": "payment", "route": route, "method": "POST", "status": status}
    return store.metric("payment", "shopsim_http_requests_total", labels)


def _body(store, key: str) -> dict:
    customer = store.data.customers[4]
    return {
        "customer_id": customer.id,
        "idempotency_key": key,
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
        "items": [{"sku": "SKU-0001", "quantity": 1}],
    }


def _auth_statuses(store, body: dict) -> list[str]:
    reference = order_id_for(body["customer_id"], body["idempotency_key"])
    query = select(authorizations.c.status).where(authorizations.c.reference == reference)
    with store.ctx("payment").db.read() as conn:
        return list(conn.execute(query).scalars())


def _cut_short(response) -> bool:
    return len(response.get_data()) < int(response.headers["Content-Length"])


def _catalog_reset(store, probability: float) -> None:
    spec = {
        "name": "resetting-catalog",
        "type": "reset",
        "target": "catalog",
        "probability": probability,
        "duration_s": 60,
    }
    add_fault(store, spec)


def _dropped(store, n: int, path: str = PRODUCT) -> int:
    client = store.client("catalog")
    return sum(_cut_short(client.get(path)) for _ in range(n))


def test_reset_probability_zero_never_drops(chaos):
    _catalog_reset(chaos, 0.0)
    assert _dropped(chaos, 200) == 0
    assert chaos.metric("catalog", INJECTIONS, {"fault": "reset"}) == 0


def test_reset_probability_one_drops_every_answer(chaos):
    _catalog_reset(chaos, 1.0)
    client = chaos.client("catalog")
    for _ in range(20):
        response = client.get(PRODUCT)
        assert _cut_short(response)
        assert b"SKU-0001" not in response.get_data()  # the product never arrived
    assert chaos.metric("catalog", INJECTIONS, {"fault": "reset"}) == 20


def test_reset_probability_0_3_drops_a_binomial_share(chaos):
    n = 300
    _catalog_reset(chaos, 0.3)
    dropped = _dropped(chaos, n)
    low, high = binomial_bounds(n, 0.3)
    assert low <= dropped <= high
    assert chaos.metric("catalog", INJECTIONS, {"fault": "reset"}) == dropped


def test_reset_inbound_on_payment_does_the_work_but_checkout_never_hears(chaos):
    add_fault(chaos, {"type": "reset", "target": "payment", "duration_s": 60})
    body = _body(chaos, "reset-inbound")
    response = chaos.client("checkout").post("/checkouts", json=body)
    assert response.status_code == 503
    assert response.get_json()["error"]["reason"] == "connect_error"
    assert _dep(chaos, "connect_error") == 3
    # payment answered 201 once and replayed it twice (same Idempotency-Key) ...
    assert _served(chaos, "/authorizations", "201") == 3
    # ... so one authorization exists, which checkout never learned about
    assert _auth_statuses(chaos, body) == ["authorized"]


def test_reset_outbound_to_payment_also_loses_the_answer_after_the_work(chaos):
    spec = {"type": "reset", "target": "payment", "direction": "outbound", "duration_s": 60}
    add_fault(chaos, spec)
    body = _body(chaos, "reset-outbound")
    response = chaos.client("checkout").post("/checkouts", json=body)
    assert response.status_code == 503
    assert _dep(chaos, "connect_error") == 3
    assert _served(chaos, "/authorizations", "201") == 3
    assert _auth_statuses(chaos, body) == ["authorized"]
    assert chaos.metric("checkout", INJECTIONS, {"fault": "reset"}) == 3
    assert chaos.metric("payment", INJECTIONS, {"fault": "reset"}) == 0


def test_reset_on_some_calls_is_absorbed_by_idempotent_retries(chaos):
    spec = {
        "name": "flaky-payment",
        "type": "reset",
        "target": "payment",
        "direction": "outbound",
        "probability": 0.3,
        "duration_s": 60,
    }
    add_fault(chaos, spec)
    bodies = [_body(chaos, f"flaky-{i}") for i in range(6)]
    statuses = [chaos.client("checkout").post("/checkouts", json=b).status_code for b in bodies]
    assert _dep(chaos, "connect_error") >= 1  # some answers were lost (seeded: not by luck)
    for body, status in zip(bodies, statuses, strict=True):
        auths = _auth_statuses(chaos, body)
        if status == 201:  # a retry replayed the lost answer: still one authorization
            assert auths == ["captured"]
        else:
            assert len(auths) <= 1
    assert statuses.count(201) >= 3


def test_reset_removed_restores_answers(chaos):
    _catalog_reset(chaos, 1.0)
    assert _dropped(chaos, 3) == 3
    response = chaos.client("catalog").delete(
        "/_chaos/faults/resetting-catalog", environ_base=LOOPBACK
    )
    assert response.status_code == 200
    assert _dropped(chaos, 20) == 0


def test_reset_expires_by_itself(chaos):
    spec = {"type": "reset", "target": "payment", "direction": "outbound", "duration_s": 60}
    fault = add_fault(chaos, spec)
    assert chaos.client("checkout").post("/checkouts", json=_body(chaos, "a")).status_code == 503
    expire(chaos, fault["name"])
    assert chaos.client("checkout").post("/checkouts", json=_body(chaos, "b")).status_code == 201
    gauge = {"fault": "reset", "target": "payment"}
    assert chaos.metric("checkout", "shopsim_fault_active", gauge) == 0
