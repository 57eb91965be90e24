"""registry: search, reads, gift purchases (idempotent by order_id), gift alerts, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shopsim.services import notifications, registry
from tests.conftest import refusing


def _written(store) -> tuple[int, int]:
    """(purchase rows, total units marked purchased): what a refused request must not change."""
    with store.ctx("registry").db.read() as conn:
        rows = conn.execute(select(func.count()).select_from(registry.purchases)).scalar_one()
        units = conn.execute(select(func.sum(registry.items.c.purchased))).scalar_one()
    return rows, units


def _buy(store, reg, order_id="ord_test1", quantity=1, buyer="Grace Hopper"):
    sku = reg.items[0][0]
    body = {
        "order_id": order_id,
        "items": [{"sku": sku, "quantity": quantity}],
        "buyer_name": buyer,
    }
    return store.client("registry").post(f"/registries/{reg.id}/purchases", json=body)


def _purchased(store, reg) -> dict[str, int]:
    body = store.client("registry").get(f"/registries/{reg.id}").get_json()
    return {line["sku"]: line["purchased"] for line in body["items"]}


def test_search_matches_owner_name_case_insensitively(store):
    reg = store.data.registries[0]
    last = store.data.customers[reg.owner_customer_id - 1].last_name
    body = store.client("registry").get(f"/registries?q={last.lower()}&limit=100").get_json()
    assert reg.id in [r["id"] for r in body["registries"]]
    assert all(last.lower() in (r["owner_name"] + r["title"]).lower() for r in body["registries"])


def test_search_matches_title(store):
    reg = store.data.registries[1]
    q = reg.title.upper()
    body = store.client("registry").get("/registries", query_string={"q": q, "limit": 100})
    names = {c.id: c.name for c in store.data.customers}
    expected = [
        r.id
        for r in store.data.registries
        if q.lower() in (r.title + "|" + names[r.owner_customer_id]).lower()
    ]
    assert reg.id in expected
    assert [r["id"] for r in body.get_json()["registries"]] == expected


def test_search_filters_by_kind_and_owner(store):
    reg = store.data.registries[2]
    client = store.client("registry")
    by_kind = client.get(f"/registries?kind={reg.kind}&limit=100").get_json()["registries"]
    assert by_kind and all(r["kind"] == reg.kind for r in by_kind)
    assert len(by_kind) == sum(1 for r in store.data.registries if r.kind == reg.kind)
    mine = client.get(f"/registries?owner_customer_id={reg.owner_customer_id}").get_json()
    assert mine["registries"] == [
        {
            "id": reg.id,
            "kind": reg.kind,
            "title": reg.title,
            "owner_customer_id": reg.owner_customer_id,
            "owner_name": store.data.customers[reg.owner_customer_id - 1].name,
        }
    ]


def test_search_limit_caps_the_results(store):
    body = store.client("registry").get("/registries?limit=3").get_json()
    assert [r["id"] for r in body["registries"]] == [r.id for r in store.data.registries[:3]]


@pytest.mark.parametrize(
    "query",
    [
        "kind=party",
        "limit=0",
        "limit=101",
        "limit=x",
        "owner_customer_id=0",
        "owner_customer_id=x",
        "q=" + "a" * 101,
        "zzz=1",
    ],
)
def test_search_bad_query_is_422(store, query):
    response = store.client("registry").get(f"/registries?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == query.split("=")[0]


def test_registry_found_with_its_items(store):
    reg = store.data.registries[0]
    body = store.client("registry").get(f"/registries/{reg.id}").get_json()
    assert body["title"] == reg.title
    assert body["owner_name"] == store.data.customers[reg.owner_customer_id - 1].name
    assert body["items"] == [
        {"sku": sku, "wanted": wanted, "purchased": 0} for sku, wanted in sorted(reg.items)
    ]


@pytest.mark.parametrize("registry_id", ["9999", "99999999999999999999"])
def test_unknown_registry_is_404_naming_the_field(store, registry_id):
    response = store.client("registry").get(f"/registries/{registry_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "registry_id"


def test_purchase_marks_items_purchased(store):
    reg = store.data.registries[0]
    response = _buy(store, reg, quantity=2)
    assert response.status_code == 201
    sku = reg.items[0][0]
    assert response.get_json() == {
        "registry_id": reg.id,
        "order_id": "ord_test1",
        "items": [{"sku": sku, "quantity": 2}],
    }
    assert _purchased(store, reg)[sku] == 2
    assert store.metric("registry", "shopsim_gift_purchases_total", {"kind": reg.kind}) == 1.0


def test_purchase_beyond_wanted_is_allowed(store):
    reg = store.data.registries[0]
    assert _buy(store, reg, quantity=99).status_code == 201
    assert _purchased(store, reg)[reg.items[0][0]] == 99


def test_purchase_replays_by_order_id(store):
    reg = store.data.registries[0]
    first = _buy(store, reg)
    again = _buy(store, reg)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _purchased(store, reg)[reg.items[0][0]] == 1
    assert _written(store)[0] == 1
    assert store.metric("registry", "shopsim_gift_purchases_total", {"kind": reg.kind}) == 1.0


def test_purchase_same_order_id_other_details_is_409(store):
    reg = store.data.registries[0]
    _buy(store, reg)
    before = _written(store)
    response = _buy(store, reg, quantity=2)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert response.get_json()["error"]["field"] == "order_id"
    assert _written(store) == before


def test_purchase_sku_not_on_registry_is_404(store):
    reg = store.data.registries[0]
    other = next(p.sku for p in store.data.products if p.sku not in dict(reg.items))
    before = _written(store)
    body = {
        "order_id": "ord_x",
        "items": [{"sku": reg.items[0][0], "quantity": 1}, {"sku": other, "quantity": 1}],
        "buyer_name": "Ada",
    }
    response = store.client("registry").post(f"/registries/{reg.id}/purchases", json=body)
    assert response.status_code == 404
    err = response.get_json()["error"]
    assert (err["code"], err["field"]) == ("not_on_registry", "items[1].sku")
    assert _written(store) == before


def test_purchase_unknown_registry_is_404(store):
    body = {"order_id": "ord_x", "items": [{"sku": "SKU-0001", "quantity": 1}], "buyer_name": "A"}
    before = _written(store)
    response = store.client("registry").post("/registries/9999/purchases", json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "registry_id"
    assert _written(store) == before


def test_purchase_enqueues_gift_alert_for_the_registry(store):
    reg = store.data.registries[3]
    _buy(store, reg, order_id="ord_gift")
    nctx = store.ctx("notifications")
    assert store.client("notifications").get("/outbox").get_json()["depth"] == 1
    assert notifications.send_pending(nctx) == 1
    mail = store.client("notifications").get("/mail?event_id=gift:ord_gift").get_json()["mail"]
    assert [m["recipient_customer_id"] for m in mail] == [reg.owner_customer_id]
    assert mail[0]["template"] == "gift_alert"
    with store.ctx("registry").db.read() as conn:
        state = conn.execute(select(registry.purchases.c.alert_state)).scalar_one()
    assert state == "sent"
    assert registry.retry_pending_alerts(store.ctx("registry")) == 0


def test_gift_alert_retried_after_notifications_outage(store):
    reg = store.data.registries[0]
    rctx = store.ctx("registry")
    with store.transport("registry", "notifications", refusing()):
        assert _buy(store, reg, order_id="ord_late").status_code == 201
        assert registry.retry_pending_alerts(rctx) == 0
    with rctx.db.read() as conn:
        assert conn.execute(select(registry.purchases.c.alert_state)).scalar_one() == "pending"
    assert store.client("notifications").get("/outbox").get_json()["depth"] == 0
    assert registry.retry_pending_alerts(rctx) == 1
    assert registry.retry_pending_alerts(rctx) == 0
    assert store.client("notifications").get("/outbox").get_json()["depth"] == 1
    notifications.send_pending(store.ctx("notifications"))
    mail = store.client("notifications").get("/mail?event_id=gift:ord_late").get_json()["mail"]
    assert [m["recipient_customer_id"] for m in mail] == [reg.owner_customer_id]


GOOD = '"order_id": "ord_1", "buyer_name": "Ada"'


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[1]", 400, "body"),
        ("", 400, "body"),
        ('{"items": [{"sku": "SKU-0001", "quantity": 1}], "buyer_name": "A"}', 422, "order_id"),
        (
            '{"order_id": "", "items": [{"sku": "SKU-0001", "quantity": 1}], "buyer_name": "A"}',
            422,
            "order_id",
        ),
        (
            '{"order_id": "' + "x" * 65 + '", "items": [{"sku": "SKU-0001", "quantity": 1}], '
            '"buyer_name": "A"}',
            422,
            "order_id",
        ),
        (
            '{"order_id": 7, "items": [{"sku": "SKU-0001", "quantity": 1}], "buyer_name": "A"}',
            422,
            "order_id",
        ),
        ("{" + GOOD + ', "items": []}', 422, "items"),
        ("{" + GOOD + ', "items": {"sku": "SKU-0001"}}', 422, "items"),
        ("{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": 0}]}', 422, "items[0].quantity"),
        (
            "{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": -1}]}',
            422,
            "items[0].quantity",
        ),
        (
            "{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": 100}]}',
            422,
            "items[0].quantity",
        ),
        (
            "{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": 10000000000000000000000}]}',
            422,
            "items[0].quantity",
        ),
        (
            "{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": "1"}]}',
            422,
            "items[0].quantity",
        ),
        ("{" + GOOD + ', "items": [{"sku": "sku 1", "quantity": 1}]}', 422, "items[0].sku"),
        (
            "{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": 1, "x": 1}]}',
            422,
            "items[0].x",
        ),
        (
            "{" + GOOD + ', "items": [{"sku": "SKU-0001", "quantity": 1}, '
            '{"sku": "SKU-0001", "quantity": 1}]}',
            422,
            "items[1].sku",
        ),
        (
            "{"
            + GOOD
            + ', "items": ['
            + ", ".join(f'{{"sku": "SKU-{i:04d}", "quantity": 1}}' for i in range(1, 52))
            + "]}",
            422,
            "items",
        ),
        (
            '{"order_id": "o", "buyer_name": "", "items": [{"sku": "SKU-0001", "quantity": 1}]}',
            422,
            "buyer_name",
        ),
        (
            '{"order_id": "o", "buyer_name": "A", "items": [{"sku": "SKU-0001", "quantity": 1}], '
            '"extra": true}',
            422,
            "extra",
        ),
    ],
)
def test_purchase_bad_input_writes_nothing(store, body, status, field):
    reg = store.data.registries[0]
    before = _written(store)
    response = store.client("registry").post(
        f"/registries/{reg.id}/purchases", data=body, content_type="application/json"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert _written(store) == before


def test_purchase_oversized_body_is_413(store):
    reg = store.data.registries[0]
    big = '{"order_id": "' + "x" * (store.settings.max_body_bytes + 10) + '"}'
    response = store.client("registry").post(
        f"/registries/{reg.id}/purchases", data=big, content_type="application/json"
    )
    assert response.status_code == 413
    assert _written(store) == (0, 0)


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/registries/1"), ("get", "/registries/1/purchases"), ("post", "/registries")],
)
def test_wrong_method_is_405(store, method, path):
    response = getattr(store.client("registry"), method)(path)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
