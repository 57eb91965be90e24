"""checkout: the saga end to end, idempotent retries, compensation, ambiguous captures,
recovery, followups, order reads and bad input."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import httpx
import pytest
from sqlalchemy import func, select

from shopsim.services import checkout, inventory, notifications
from shopsim.services.checkout import attempts, tables
from shopsim.services.payment import tables as payment_tables
from tests.conftest import refusing


class Faulty(httpx.BaseTransport):
    """Forwards to a real app; refuses requests whose path ends with one of `refuse` (nothing
    reaches the app) and loses the response of those ending with one of `lose` (the app did it)."""

    def __init__(self, app, *, refuse: tuple[str, ...] = (), lose: tuple[str, ...] = ()) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.refuse, self.lose = refuse, lose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(self.refuse):
            raise httpx.ConnectError("connection refused", request=request)
        response = self.inner.handle_request(request)
        if request.url.path.endswith(self.lose):
            response.read()
            raise httpx.ReadTimeout("response lost", request=request)
        return response


def faults(store, dep: str, **kinds: tuple[str, ...]) -> AbstractContextManager[None]:
    """While inside, checkout's calls to `dep` go through a Faulty transport."""
    return store.transport("checkout", dep, Faulty(store.apps[dep], **kinds))


def _body(store, key: str = "k1", **changes):
    customer = store.data.customers[4]
    body = {
        "customer_id": customer.id,
        "idempotency_key": key,
        "card_token": "tok_visa",
        "email": customer.email,
        "name": customer.name,
    }
    return body | changes


def _fill_cart(store, customer_id: int, *lines: tuple[str, int]) -> None:
    for sku, quantity in lines:
        response = store.client("cart").post(
            f"/carts/{customer_id}/items", json={"sku": sku, "quantity": quantity}
        )
        assert response.status_code == 200


def _checkout(store, body):
    return store.client("checkout").post("/checkouts", json=body)


def _charges(store, order_id: str) -> list[dict]:
    response = store.client("payment").get("/charges", query_string={"reference": order_id})
    return response.get_json()["charges"]


def _authorizations(store, order_id: str) -> list[str]:
    """Statuses of every authorization made for an order (an audit of the gateway's table)."""
    auths = payment_tables.authorizations
    with store.ctx("payment").db.read() as conn:
        rows = conn.execute(select(auths.c.status).where(auths.c.reference == order_id))
        return sorted(rows.scalars())


def _stock(store, sku: str) -> dict:
    return store.client("inventory").get(f"/stock/{sku}").get_json()


def _order(store, order_id: str) -> dict:
    return store.client("checkout").get(f"/orders/{order_id}").get_json()


def _attempt(store, body):
    att = tables.attempts
    with store.ctx("checkout").db.read() as conn:
        return conn.execute(
            select(att).where(
                att.c.customer_id == body["customer_id"],
                att.c.idempotency_key == body["idempotency_key"],
            )
        ).one()


#: Row counts of checkout's tables when no request has left a trace.
EMPTY = dict.fromkeys(
    ["checkout_attempts", "checkout_orders", "checkout_order_items", "checkout_followups"], 0
)


def _rows(store) -> dict[str, int]:
    with store.ctx("checkout").db.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in tables.metadata.sorted_tables
        }


def _outbox(store) -> int:
    return store.client("notifications").get("/outbox").get_json()["depth"]


def _mail(store, event_id: str) -> list[dict]:
    notifications.send_pending(store.ctx("notifications"))
    response = store.client("notifications").get("/mail", query_string={"event_id": event_id})
    return response.get_json()["mail"]


def _oid(body) -> str:
    return attempts.order_id_for(body["customer_id"], body["idempotency_key"])


def test_checkout_from_cart_confirms_and_charges_once(any_store):
    store = any_store  # on SQLite, then PostgreSQL
    price = {p.sku: p.price_cents for p in store.data.products}
    before = {sku: _stock(store, sku) for sku in ("SKU-0001", "SKU-0002")}
    _fill_cart(store, 5, ("SKU-0001", 2), ("SKU-0002", 1))
    body = _body(store)
    response = _checkout(store, body)
    assert response.status_code == 201
    order = response.get_json()
    total = 2 * price["SKU-0001"] + price["SKU-0002"]
    assert order == {
        "order_id": _oid(body),
        "status": "confirmed",
        "total_cents": total,
        "items": [
            {"sku": "SKU-0001", "quantity": 2, "price_cents": price["SKU-0001"]},
            {"sku": "SKU-0002", "quantity": 1, "price_cents": price["SKU-0002"]},
        ],
        "registry_id": None,
    }
    charges = _charges(store, order["order_id"])
    assert [c["amount_cents"] for c in charges] == [total]
    for sku, quantity in (("SKU-0001", 2), ("SKU-0002", 1)):
        assert _stock(store, sku)["on_hand"] == before[sku]["on_hand"] - quantity
        assert _stock(store, sku)["reserved"] == 0
    assert store.client("cart").get("/carts/5").get_json()["items"] == []
    mail = _mail(store, f"order-confirmation:{order['order_id']}")
    assert [m["recipient_customer_id"] for m in mail] == [5]
    seen = _order(store, order["order_id"])
    assert seen["status"] == "confirmed"
    assert seen["authorization_id"] == charges[0]["authorization_id"]
    assert seen["reservation_id"] == f"{order['order_id']}-1"


def test_checkout_metrics_count_steps_outcome_and_revenue(store):
    registry = store.ctx("checkout").metrics.registry
    step_count = "shopsim_checkout_step_duration_seconds_count"
    assert registry.get_sample_value(step_count, {"step": "capture"}) == 0.0
    assert registry.get_sample_value("shopsim_checkout_orders_total", {"outcome": "failed"}) == 0
    response = _checkout(store, _body(store, items=[{"sku": "SKU-0003", "quantity": 3}]))
    total = response.get_json()["total_cents"]
    for step in checkout.instruments.STEPS:
        assert store.metric("checkout", step_count, {"step": step}) == 1.0
    assert store.metric("checkout", "shopsim_checkout_orders_total", {"outcome": "confirmed"}) == 1
    assert store.metric("checkout", "shopsim_checkout_revenue_dollars_total") == total / 100
    assert store.metric("checkout", "shopsim_checkout_followups_pending") == 0.0


def test_same_key_replays_the_same_order(any_store):
    store = any_store  # on SQLite, then PostgreSQL
    _fill_cart(store, 5, ("SKU-0001", 1))
    body = _body(store)
    first = _checkout(store, body)
    on_hand = _stock(store, "SKU-0001")["on_hand"]
    _fill_cart(store, 5, ("SKU-0001", 1))  # the cart changed: a replay must not look at it
    again = _checkout(store, body)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(_charges(store, _oid(body))) == 1
    assert _stock(store, "SKU-0001")["on_hand"] == on_hand
    orders = store.client("checkout").get("/orders?customer_id=5").get_json()["orders"]
    assert [o["order_id"] for o in orders] == [_oid(body)]
    assert store.metric("checkout", "shopsim_checkout_orders_total", {"outcome": "confirmed"}) == 1


def test_same_key_different_body_is_409(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    _checkout(store, body)
    before = _rows(store)
    response = _checkout(store, body | {"items": [{"sku": "SKU-0001", "quantity": 2}]})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert response.get_json()["error"]["field"] == "idempotency_key"
    assert _rows(store) == before
    assert len(_charges(store, _oid(body))) == 1


def test_same_key_while_running_is_409_in_use(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    seen = []

    class Meddler(Faulty):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/authorizations":  # a client retry while the saga runs
                seen.append(_checkout(store, body))
            return super().handle_request(request)

    with store.transport("checkout", "payment", Meddler(store.apps["payment"])):
        assert _checkout(store, body).status_code == 201
    assert seen[0].status_code == 409
    assert seen[0].get_json()["error"]["code"] == "idempotency_key_in_use"
    assert seen[0].headers["Retry-After"] == "1"
    assert len(_charges(store, _oid(body))) == 1


def test_concurrent_retries_of_one_key_make_one_order_and_one_charge(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _checkout(store, body), range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and 201 in statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert len(_charges(store, _oid(body))) == 1
    assert _rows(store)["checkout_orders"] == 1


def test_declined_card_is_402_releases_stock_and_charges_nothing(store):
    before = _stock(store, "SKU-0001")
    body = _body(store, card_token="tok_decline", items=[{"sku": "SKU-0001", "quantity": 2}])
    response = _checkout(store, body)
    assert response.status_code == 402
    assert response.get_json()["error"]["code"] == "card_declined"
    assert _stock(store, "SKU-0001") == before
    assert _charges(store, _oid(body)) == []
    assert _order(store, _oid(body))["status"] == "failed"
    again = _checkout(store, body)
    assert (again.status_code, again.get_json()) == (402, response.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert store.metric("checkout", "shopsim_checkout_orders_total", {"outcome": "declined"}) == 1


def test_out_of_stock_is_409_and_leaves_no_live_authorization(store):
    sku, on_hand = next((s, q) for s, q in store.data.stock if s.startswith("DB-"))
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}, {"sku": sku, "quantity": 9}])
    response = _checkout(store, body)
    assert response.status_code == 409
    err = response.get_json()["error"]
    assert (err["code"], err["field"]) == ("insufficient_stock", "items[1].quantity")
    assert "authorized" not in _authorizations(store, _oid(body))
    assert _charges(store, _oid(body)) == []
    assert _stock(store, sku) == {
        "sku": sku,
        "on_hand": on_hand,
        "reserved": 0,
        "available": on_hand,
    }
    assert _stock(store, "SKU-0001")["reserved"] == 0
    labels = {"outcome": "out_of_stock"}
    assert store.metric("checkout", "shopsim_checkout_orders_total", labels) == 1
    assert _rows(store) == EMPTY  # refused before anything was held: no trace, key unspent


def test_empty_cart_is_409_cart_empty_and_writes_nothing(store):
    response = _checkout(store, _body(store))
    assert response.status_code == 409
    err = response.get_json()["error"]
    assert (err["code"], err["field"]) == ("cart_empty", "items")
    assert _rows(store) == EMPTY
    given_none = _checkout(store, _body(store, "k2", items=[]))
    assert given_none.get_json()["error"]["code"] == "cart_empty"
    assert _rows(store) == EMPTY


def test_a_refused_key_is_not_spent(store):
    """Refused for an empty cart, the same key places the order once the cart has something."""
    body = _body(store)
    assert _checkout(store, body).status_code == 409
    _fill_cart(store, body["customer_id"], ("SKU-0001", 1))
    again = _checkout(store, body)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert _attempt(store, body).state == "done"


def test_a_later_attempt_refused_goes_back_to_retryable(store):
    """After a 503, a retry refused before holding anything keeps the key's history (attempt 2
    stays used, so no downstream key is reused) and stores no answer; the next retry orders."""
    body = _body(store)
    customer_id = body["customer_id"]
    _fill_cart(store, customer_id, ("SKU-0001", 1))
    with store.transport("checkout", "payment", refusing()):
        assert _checkout(store, body).status_code == 503
    assert (_attempt(store, body).state, _attempt(store, body).attempt_no) == ("retryable", 1)
    assert store.client("cart").delete(f"/carts/{customer_id}").status_code == 200
    refused = _checkout(store, body)
    assert refused.get_json()["error"]["code"] == "cart_empty"
    attempt = _attempt(store, body)
    assert (attempt.state, attempt.attempt_no, attempt.response_status) == ("retryable", 2, None)
    _fill_cart(store, customer_id, ("SKU-0001", 1))
    placed = _checkout(store, body)
    assert placed.status_code == 201
    assert (_attempt(store, body).state, _attempt(store, body).attempt_no) == ("done", 3)
    assert len(_charges(store, _oid(body))) == 1


def test_unknown_sku_is_404_naming_the_line(store):
    items = [{"sku": "SKU-0001", "quantity": 1}, {"sku": "NOPE-1", "quantity": 1}]
    response = _checkout(store, _body(store, items=items))
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "items[1].sku"
    assert _stock(store, "SKU-0001")["reserved"] == 0
    assert _rows(store) == EMPTY


def test_gift_buy_marks_registry_item_purchased(store):
    reg = store.data.registries[0]
    sku = reg.items[0][0]
    _fill_cart(store, 5, ("SKU-0009", 1))  # a direct buy leaves the cart alone
    body = _body(store, items=[{"sku": sku, "quantity": 1}], registry_id=reg.id)
    response = _checkout(store, body)
    assert response.status_code == 201
    assert response.get_json()["registry_id"] == reg.id
    lines = store.client("registry").get(f"/registries/{reg.id}").get_json()["items"]
    assert {x["sku"]: x["purchased"] for x in lines}[sku] == 1
    assert store.client("cart").get("/carts/5").get_json()["items"] != []
    mail = _mail(store, f"gift:{_oid(body)}")
    assert [m["recipient_customer_id"] for m in mail] == [reg.owner_customer_id]


def test_gift_sku_not_on_registry_is_404_and_writes_nothing(store):
    reg = store.data.registries[0]
    other = next(p.sku for p in store.data.products if p.sku not in dict(reg.items))
    body = _body(store, items=[{"sku": other, "quantity": 1}], registry_id=reg.id)
    response = _checkout(store, body)
    assert response.status_code == 404
    err = response.get_json()["error"]
    assert (err["code"], err["field"]) == ("not_on_registry", "items[0].sku")
    assert _stock(store, other)["reserved"] == 0
    assert _rows(store) == EMPTY
    assert "Idempotent-Replayed" not in _checkout(store, body).headers


def test_unknown_registry_is_404(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}], registry_id=9999)
    response = _checkout(store, body)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "registry_id"
    assert _authorizations(store, _oid(body)) == []
    assert _rows(store) == EMPTY


def test_payment_unreachable_is_503_then_retry_succeeds_once(any_store):
    store = any_store  # on SQLite, then PostgreSQL
    before = _stock(store, "SKU-0001")
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 2}])
    with store.transport("checkout", "payment", refusing()):
        response = _checkout(store, body)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "dependency_failed"
    assert _stock(store, "SKU-0001") == before
    assert _order(store, _oid(body))["status"] == "failed"
    assert _attempt(store, body).state == "retryable"
    again = _checkout(store, body)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert len(_charges(store, _oid(body))) == 1
    orders = store.client("checkout").get("/orders?customer_id=5").get_json()["orders"]
    assert [(o["order_id"], o["status"]) for o in orders] == [(_oid(body), "confirmed")]
    assert orders[0]["reservation_id"] == f"{_oid(body)}-2"
    assert _stock(store, "SKU-0001")["on_hand"] == before["on_hand"] - 2


def test_ambiguous_capture_ends_confirmed_with_one_charge(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with faults(store, "payment", lose=("/capture",)):
        response = _checkout(store, body)
    assert response.status_code == 201
    assert len(_charges(store, _oid(body))) == 1
    assert _authorizations(store, _oid(body)) == ["captured"]
    assert _order(store, _oid(body))["status"] == "confirmed"


def test_capture_unknown_is_settled_by_recover(any_store):
    store = any_store  # on SQLite, then PostgreSQL
    before = _stock(store, "SKU-0001")
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with faults(store, "payment", lose=("/capture",), refuse=("/void",)):
        response = _checkout(store, body)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert _order(store, _oid(body))["status"] == "capture_unknown"
    assert _attempt(store, body).state == "needs_recovery"
    assert checkout.recover(store.ctx("checkout")) >= 1
    assert _order(store, _oid(body))["status"] == "confirmed"
    assert len(_charges(store, _oid(body))) == 1
    assert _stock(store, "SKU-0001")["on_hand"] == before["on_hand"] - 1
    assert len(_mail(store, f"order-confirmation:{_oid(body)}")) == 1
    again = _checkout(store, body)
    assert (again.status_code, again.get_json()["status"]) == (201, "confirmed")


def test_capture_that_never_happened_is_undone_by_the_retry(store):
    before = _stock(store, "SKU-0001")
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with faults(store, "payment", refuse=("/capture", "/void")):
        assert _checkout(store, body).status_code == 503
    assert _stock(store, "SKU-0001")["reserved"] == 1  # held until the capture is settled
    response = _checkout(store, body)
    assert response.status_code == 201
    assert _authorizations(store, _oid(body)) == ["captured", "voided"]
    assert len(_charges(store, _oid(body))) == 1
    assert _stock(store, "SKU-0001")["on_hand"] == before["on_hand"] - 1
    assert _stock(store, "SKU-0001")["reserved"] == 0


def test_commit_failure_after_capture_is_finished_by_the_retry(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with faults(store, "inventory", refuse=("/commit",)):
        response = _checkout(store, body)
    assert response.status_code == 503
    assert _order(store, _oid(body))["status"] == "pending"
    assert len(_charges(store, _oid(body))) == 1
    again = _checkout(store, body)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_charges(store, _oid(body))) == 1
    assert _order(store, _oid(body))["status"] == "confirmed"


def test_lapsed_reservation_is_taken_again_when_capture_is_settled(store):
    before = _stock(store, "SKU-0004")
    body = _body(store, items=[{"sku": "SKU-0004", "quantity": 2}])
    with faults(store, "payment", lose=("/capture",), refuse=("/void",)):
        assert _checkout(store, body).status_code == 503
    later = time.time() + 10_000
    assert inventory.expire_reservations(store.ctx("inventory"), now=later) == 1
    checkout.recover(store.ctx("checkout"))
    order = _order(store, _oid(body))
    assert order["status"] == "confirmed"
    assert order["reservation_id"].endswith("-again")
    assert order["failure_reason"] is None
    assert _stock(store, "SKU-0004")["on_hand"] == before["on_hand"] - 2
    assert _stock(store, "SKU-0004")["reserved"] == 0


def test_catalog_unreachable_is_503_retryable_with_nothing_held(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with store.transport("checkout", "catalog", refusing()):
        response = _checkout(store, body)
    assert response.status_code == 503
    assert _attempt(store, body).state == "retryable"
    assert _rows(store)["checkout_orders"] == 0
    assert _stock(store, "SKU-0001")["reserved"] == 0
    assert _checkout(store, body).status_code == 201
    assert _attempt(store, body).attempt_no == 2


def test_capture_refused_then_voided_is_undone_and_retried(store):
    before = _stock(store, "SKU-0001")
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with faults(store, "payment", refuse=("/capture",)):
        assert _checkout(store, body).status_code == 503
    assert _authorizations(store, _oid(body)) == ["voided"]
    assert _order(store, _oid(body))["status"] == "failed"
    assert _stock(store, "SKU-0001") == before
    assert _attempt(store, body).state == "retryable"
    assert _checkout(store, body).status_code == 201
    assert _authorizations(store, _oid(body)) == ["captured", "voided"]
    assert len(_charges(store, _oid(body))) == 1


def test_decline_whose_release_failed_is_answered_then_tidied_by_recover(store):
    before = _stock(store, "SKU-0001")
    body = _body(store, card_token="tok_decline", items=[{"sku": "SKU-0001", "quantity": 2}])
    with faults(store, "inventory", refuse=("/release",)):
        response = _checkout(store, body)
    assert response.status_code == 402
    assert _attempt(store, body).state == "needs_recovery"
    assert _stock(store, "SKU-0001")["reserved"] == 2
    assert checkout.recover(store.ctx("checkout")) == 1
    assert _stock(store, "SKU-0001") == before
    assert _attempt(store, body).state == "done"
    again = _checkout(store, body)
    assert (again.status_code, again.get_json()) == (402, response.get_json())


def test_recover_finishes_a_pending_confirmation_once(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    with store.transport("checkout", "notifications", refusing()):
        assert _checkout(store, body).status_code == 201
    assert store.metric("checkout", "shopsim_checkout_followups_pending") == 1.0
    assert _outbox(store) == 0
    ctx = store.ctx("checkout")
    assert checkout.recover(ctx) == 1
    assert checkout.recover(ctx) == 0
    assert _outbox(store) == 1
    assert store.metric("checkout", "shopsim_checkout_followups_pending") == 0.0
    assert len(_mail(store, f"order-confirmation:{_oid(body)}")) == 1
    with ctx.db.read() as conn:
        row = conn.execute(select(tables.followups)).one()
    assert (row.state, row.attempts) == ("done", 2)


def test_order_read_shows_where_money_and_stock_are(store):
    body = _body(store, items=[{"sku": "SKU-0001", "quantity": 1}])
    _checkout(store, body)
    order = _order(store, _oid(body))
    assert order["customer_id"] == 5
    assert order["charge_id"] == _charges(store, _oid(body))[0]["charge_id"]
    assert order["failure_reason"] is None


def test_orders_listed_newest_first_per_customer(store):
    for key in ("a", "b"):
        _checkout(store, _body(store, key, items=[{"sku": "SKU-0001", "quantity": 1}]))
    other = _body(store, "c", items=[{"sku": "SKU-0001", "quantity": 1}]) | {"customer_id": 6}
    _checkout(store, other)
    client = store.client("checkout")
    mine = client.get("/orders?customer_id=5").get_json()["orders"]
    assert [o["order_id"] for o in mine] == [_oid(_body(store, k)) for k in ("b", "a")]
    assert len(client.get("/orders?limit=1").get_json()["orders"]) == 1
    assert len(client.get("/orders").get_json()["orders"]) == 3


@pytest.mark.parametrize("order_id", ["ord_00000000000000000000", "x" * 300])
def test_unknown_order_is_404(store, order_id):
    response = store.client("checkout").get(f"/orders/{order_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "order_id"


@pytest.mark.parametrize(
    "query", ["customer_id=0", "customer_id=x", "limit=0", "limit=101", "limit=x", "zzz=1"]
)
def test_orders_bad_query_is_422(store, query):
    response = store.client("checkout").get(f"/orders?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == query.split("=")[0]


MISSING = object()
LINE = {"sku": "SKU-0001", "quantity": 1}


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[1]", 400, "body"),
        ("null", 400, "body"),
        ("", 400, "body"),
        ({"customer_id": MISSING}, 422, "customer_id"),
        ({"customer_id": 0}, 422, "customer_id"),
        ({"customer_id": -1}, 422, "customer_id"),
        ({"customer_id": 2**31}, 422, "customer_id"),
        ({"customer_id": "5"}, 422, "customer_id"),
        ({"customer_id": 5.5}, 422, "customer_id"),
        ({"idempotency_key": MISSING}, 422, "idempotency_key"),
        ({"idempotency_key": ""}, 422, "idempotency_key"),
        ({"idempotency_key": "k" * 256}, 422, "idempotency_key"),
        ({"idempotency_key": 7}, 422, "idempotency_key"),
        ({"card_token": MISSING}, 422, "card_token"),
        ({"card_token": "visa"}, 422, "card_token"),
        ({"card_token": "tok_"}, 422, "card_token"),
        ({"card_token": 4242}, 422, "card_token"),
        ({"email": MISSING}, 422, "email"),
        ({"email": "nobody"}, 422, "email"),
        ({"email": "a" * 250 + "@b.co"}, 422, "email"),
        ({"name": MISSING}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "n" * 201}, 422, "name"),
        ({"items": "SKU-0001"}, 422, "items"),
        ({"items": [{"sku": "SKU-0001"}]}, 422, "items[0].quantity"),
        ({"items": [LINE | {"quantity": 0}]}, 422, "items[0].quantity"),
        ({"items": [LINE | {"quantity": -1}]}, 422, "items[0].quantity"),
        ({"items": [LINE | {"quantity": 100}]}, 422, "items[0].quantity"),
        ({"items": [LINE | {"quantity": 10**20}]}, 422, "items[0].quantity"),
        ({"items": [LINE | {"quantity": "1"}]}, 422, "items[0].quantity"),
        ({"items": [LINE | {"sku": "sku-1"}]}, 422, "items[0].sku"),
        ({"items": [LINE | {"x": 1}]}, 422, "items[0].x"),
        ({"items": [LINE, LINE]}, 422, "items[1].sku"),
        ({"items": [{"sku": f"SKU-{i:04d}", "quantity": 1} for i in range(1, 52)]}, 422, "items"),
        ({"registry_id": 0}, 422, "registry_id"),
        ({"registry_id": "1"}, 422, "registry_id"),
        ({"registry_id": 2**31}, 422, "registry_id"),
        ({"extra": True}, 422, "extra"),
    ],
)
def test_checkout_bad_input_writes_nothing(store, change, status, field):
    if isinstance(change, str):
        raw = change
    else:
        body = _body(store, items=[LINE]) | change
        raw = json.dumps({k: v for k, v in body.items() if v is not MISSING})
    before = _stock(store, "SKU-0001")
    response = store.client("checkout").post(
        "/checkouts", data=raw, content_type="application/json"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert set(_rows(store).values()) == {0}
    assert _stock(store, "SKU-0001") == before
    with store.ctx("payment").db.read() as conn:
        count = select(func.count()).select_from(payment_tables.authorizations)
        assert conn.execute(count).scalar_one() == 0


def test_checkout_oversized_body_is_413(store):
    big = json.dumps(_body(store, name="n" * (store.settings.max_body_bytes + 10)))
    response = store.client("checkout").post(
        "/checkouts", data=big, content_type="application/json"
    )
    assert response.status_code == 413
    assert set(_rows(store).values()) == {0}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/checkouts"),
        ("put", "/checkouts"),
        ("delete", "/orders/ord_1"),
        ("post", "/orders"),
    ],
)
def test_wrong_method_is_405(store, method, path):
    response = getattr(store.client("checkout"), method)(path)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_late_cart_followup_keeps_what_the_customer_added_after_paying(store):
    body = _body(store)
    customer = body["customer_id"]
    _fill_cart(store, customer, ("SKU-0002", 1))
    real_cart = httpx.WSGITransport(app=store.apps["cart"])

    def reads_only(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return real_cart.handle_request(request)
        raise httpx.ConnectError("cart unreachable for writes", request=request)

    with store.transport("checkout", "cart", httpx.MockTransport(reads_only)):
        assert _checkout(store, body).status_code == 201
    assert store.metric("checkout", "shopsim_checkout_followups_pending") == 1.0
    _fill_cart(store, customer, ("SKU-0002", 1), ("SKU-0007", 2))  # shopping on after paying
    checkout.recover(store.ctx("checkout"))
    assert store.metric("checkout", "shopsim_checkout_followups_pending") == 0.0
    cart = store.client("cart").get(f"/carts/{customer}").get_json()
    # The bought unit of SKU-0002 left the cart: two were there, one remains; SKU-0007 stays.
    assert cart["items"] == [
        {"sku": "SKU-0002", "quantity": 1},
        {"sku": "SKU-0007", "quantity": 2},
    ]
