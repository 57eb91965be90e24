"""payment: authorize, capture, void, the charges ledger, idempotency keys, latency, bad input."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from shopsim.errors import Unprocessable
from shopsim.services.payment import network_delay_s
from shopsim.services.payment.gateway import Gateway
from shopsim.services.payment.gateway import of as gateway_of
from shopsim.services.payment.idempotency import STALE_CLAIM_S, execute, fingerprint
from shopsim.services.payment.tables import authorizations, charges, idempotency, metadata

KEY = "Idempotency-Key"


def auth_body(**changes: Any) -> dict[str, Any]:
    body = {"amount_cents": 2500, "currency": "USD", "card_token": "tok_visa", "reference": "ord_1"}
    return body | changes


MISSING = object()


def raw(**changes: Any) -> str:
    """An authorization body as JSON text, with fields changed or (MISSING) left out."""
    body: dict[str, Any] = auth_body()
    for name, value in changes.items():
        if value is MISSING:
            body.pop(name)
        else:
            body[name] = value
    return json.dumps(body)


def authorize(store, key: str = "auth-1", **changes: Any):
    return store.client("payment").post(
        "/authorizations", json=auth_body(**changes), headers={KEY: key}
    )


def authorized(store, key: str = "auth-1", **changes: Any) -> str:
    response = authorize(store, key, **changes)
    assert response.status_code == 201
    return response.get_json()["authorization_id"]


def act(store, authorization_id: str, action: str, key: str, **kwargs: Any):
    path = f"/authorizations/{authorization_id}/{action}"
    return store.client("payment").post(path, headers={KEY: key}, **kwargs)


def count(store, table) -> int:
    with store.ctx("payment").db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def counts(store) -> dict[str, int]:
    return {t.name: count(store, t) for t in metadata.sorted_tables}


def status_of(store, authorization_id: str) -> str:
    return store.client("payment").get(f"/authorizations/{authorization_id}").get_json()["status"]


def operations(store, operation: str, outcome: str) -> float:
    labels = {"operation": operation, "outcome": outcome}
    return store.metric("payment", "shopsim_payment_operations_total", labels)


def gateway(store) -> Gateway:
    return gateway_of(store.ctx("payment"))


def slow_gateway(store, monkeypatch, latency_ms: float, jitter_ms: float = 0.0) -> None:
    settings = store.settings.replace(payment_latency_ms=latency_ms, payment_jitter_ms=jitter_ms)
    monkeypatch.setattr(store.ctx("payment"), "settings", settings)


# --- authorize -------------------------------------------------------------------------------


def test_authorize_returns_201_and_stores_the_authorization(store):
    response = authorize(store)
    assert response.status_code == 201
    body = response.get_json()
    assert body["authorization_id"].startswith("auth_")
    assert {k: body[k] for k in ("status", "amount_cents", "currency", "reference")} == {
        "status": "authorized",
        "amount_cents": 2500,
        "currency": "USD",
        "reference": "ord_1",
    }
    assert "Idempotent-Replayed" not in response.headers
    assert status_of(store, body["authorization_id"]) == "authorized"
    assert operations(store, "authorize", "approved") == 1.0


def test_authorize_replay_returns_identical_body_and_replayed_header(store):
    first = authorize(store, "same-key")
    again = authorize(store, "same-key")
    assert again.status_code == 201
    assert again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(store, authorizations) == 1
    labels = {"operation": "authorize"}
    assert store.metric("payment", "shopsim_payment_idempotent_replays_total", labels) == 1.0
    assert operations(store, "authorize", "approved") == 1.0


def test_same_key_with_different_amount_is_409_reused(store):
    authorize(store, "k")
    response = authorize(store, "k", amount_cents=2600)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("idempotency_key_reused", KEY)
    assert count(store, authorizations) == 1


def test_same_key_on_another_endpoint_is_409_reused(store):
    authorization_id = authorized(store, "k")
    response = act(store, authorization_id, "capture", "k")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(store, charges) == 0


def test_concurrent_requests_with_one_key_make_one_authorization(store, monkeypatch):
    answered: list[Any] = []
    changed = threading.Condition()

    def hold(_seconds: float) -> None:
        # The request that claimed the key waits out its "network" until every other request
        # with the key has been answered: all of them meet the claim, however threads are run.
        with changed:
            assert changed.wait_for(lambda: len(answered) == 7, timeout=60)

    monkeypatch.setattr(gateway(store), "wait", hold)

    def worker() -> None:
        response = store.client("payment").post(
            "/authorizations", json=auth_body(), headers={KEY: "race"}
        )
        with changed:
            answered.append(response)
            changed.notify_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(store, authorizations) == 1
    assert sorted(r.status_code for r in answered) == [201] + [409] * 7
    refused = [r for r in answered if r.status_code == 409]
    assert {r.get_json()["error"]["code"] for r in refused} == {"idempotency_key_in_use"}
    assert operations(store, "authorize", "conflict") == 7.0


def claim(store, key: str, claimed_at: float, body: dict[str, Any] | None = None) -> None:
    digest = fingerprint("POST", "/authorizations", body or auth_body())
    with store.ctx("payment").db.write() as conn:
        conn.execute(
            idempotency.insert().values(
                key=key, request_hash=digest, state="in_progress", created_at=claimed_at
            )
        )


def test_key_of_a_running_request_is_409_in_use(store):
    claim(store, "busy", time.time())
    response = authorize(store, "busy")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert response.headers["Retry-After"] == "1"
    assert count(store, authorizations) == 0
    assert operations(store, "authorize", "conflict") == 1.0


def test_a_stale_claim_is_taken_over_by_the_same_request(store):
    claim(store, "dead", time.time() - STALE_CLAIM_S - 1)
    response = authorize(store, "dead")
    assert response.status_code == 201
    assert count(store, authorizations) == 1
    assert authorize(store, "dead").headers["Idempotent-Replayed"] == "true"


def test_a_stale_claim_is_not_taken_over_by_another_request(store):
    claim(store, "dead", time.time() - STALE_CLAIM_S - 1, auth_body(amount_cents=1))
    response = authorize(store, "dead")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert count(store, authorizations) == 0


@pytest.mark.parametrize(
    ("token", "code"),
    [("tok_decline", "card_declined"), ("tok_insufficient_funds", "insufficient_funds")],
)
def test_decline_is_402_and_replayed_as_402(store, token, code):
    first = authorize(store, "declined", card_token=token)
    assert first.status_code == 402
    assert first.get_json()["error"] == {
        "code": code,
        "message": f"the card was declined ({code})",
        "field": "card_token",
    }
    again = authorize(store, "declined", card_token=token)
    assert again.status_code == 402
    assert again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(store, authorizations) == 0
    assert operations(store, "authorize", "declined") == 1.0


# --- capture and void ------------------------------------------------------------------------


def test_capture_writes_one_charge(store):
    authorization_id = authorized(store)
    response = act(store, authorization_id, "capture", "cap-1")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "captured"
    assert body["charge_id"].startswith("ch_")
    assert body["amount_cents"] == 2500
    ledger = store.client("payment").get("/charges?reference=ord_1").get_json()["charges"]
    assert [(c["charge_id"], c["authorization_id"]) for c in ledger] == [
        (body["charge_id"], authorization_id)
    ]
    assert status_of(store, authorization_id) == "captured"


def test_capture_accepts_an_empty_object(store):
    authorization_id = authorized(store)
    response = act(store, authorization_id, "capture", "cap-1", json={})
    assert response.status_code == 200
    assert count(store, charges) == 1


def test_capture_twice_with_two_keys_is_409_already_captured(store):
    authorization_id = authorized(store)
    first = act(store, authorization_id, "capture", "cap-1")
    second = act(store, authorization_id, "capture", "cap-2")
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["code"] == "already_captured"
    assert error["charge_id"] == first.get_json()["charge_id"]
    assert count(store, charges) == 1
    assert operations(store, "capture", "conflict") == 1.0


def test_capture_replay_returns_the_same_charge(store):
    authorization_id = authorized(store)
    first = act(store, authorization_id, "capture", "cap-1")
    again = act(store, authorization_id, "capture", "cap-1")
    assert again.status_code == 200
    assert again.data == first.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(store, charges) == 1


def test_capture_of_a_voided_authorization_is_409(store):
    authorization_id = authorized(store)
    act(store, authorization_id, "void", "void-1")
    response = act(store, authorization_id, "capture", "cap-1")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "authorization_voided"
    assert count(store, charges) == 0


def test_capture_of_an_unknown_authorization_is_404_and_replayed(store):
    first = act(store, "auth_nope", "capture", "cap-1")
    assert first.status_code == 404
    assert first.get_json()["error"]["field"] == "authorization_id"
    again = act(store, "auth_nope", "capture", "cap-1")
    assert again.status_code == 404
    assert again.headers["Idempotent-Replayed"] == "true"


def test_ledger_refuses_a_second_charge_for_one_authorization(store):
    # A charge the authorization's status does not show (data damaged by hand): the unique
    # authorization_id in the ledger still stops a second one.
    authorization_id = authorized(store)
    with store.ctx("payment").db.write() as conn:
        conn.execute(
            charges.insert().values(
                id="ch_manual",
                authorization_id=authorization_id,
                amount_cents=2500,
                reference="ord_1",
                created_at=time.time(),
            )
        )
    response = act(store, authorization_id, "capture", "cap-1")
    assert response.status_code == 409
    assert response.get_json()["error"]["charge_id"] == "ch_manual"
    assert count(store, charges) == 1
    assert status_of(store, authorization_id) == "authorized"


def test_void_releases_the_authorization_and_voiding_again_is_200(store):
    authorization_id = authorized(store)
    first = act(store, authorization_id, "void", "void-1")
    assert first.status_code == 200
    assert first.get_json()["status"] == "voided"
    again = act(store, authorization_id, "void", "void-2")
    assert again.status_code == 200
    assert "Idempotent-Replayed" not in again.headers
    assert status_of(store, authorization_id) == "voided"
    assert operations(store, "void", "approved") == 2.0


def test_void_after_capture_is_409_already_captured(store):
    authorization_id = authorized(store)
    act(store, authorization_id, "capture", "cap-1")
    response = act(store, authorization_id, "void", "void-1")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_captured"
    assert status_of(store, authorization_id) == "captured"
    assert count(store, charges) == 1


def test_void_of_an_unknown_authorization_is_404(store):
    response = act(store, "auth_nope", "void", "void-1")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "authorization_id"


# --- reads -----------------------------------------------------------------------------------


def test_get_authorization_shows_its_charge(store):
    authorization_id = authorized(store)
    charge_id = act(store, authorization_id, "capture", "cap-1").get_json()["charge_id"]
    body = store.client("payment").get(f"/authorizations/{authorization_id}").get_json()
    assert (body["status"], body["charge_id"], body["amount_cents"]) == (
        "captured",
        charge_id,
        2500,
    )


def test_get_unknown_authorization_is_404(store):
    response = store.client("payment").get("/authorizations/auth_nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "authorization_id"


def test_charges_filter_by_reference_and_limit(store):
    for n in range(3):
        authorization_id = authorized(store, f"a{n}", reference=f"ord_{n % 2}")
        act(store, authorization_id, "capture", f"c{n}")
    client = store.client("payment")
    ledger = client.get("/charges?reference=ord_0").get_json()["charges"]
    assert [c["reference"] for c in ledger] == ["ord_0", "ord_0"]
    assert len(client.get("/charges?limit=1").get_json()["charges"]) == 1
    assert len(client.get("/charges").get_json()["charges"]) == 3


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=abc", "limit=5000", "zzz=1", "reference=" + "r" * 101]
)
def test_charges_bad_query_is_422(store, query):
    response = store.client("payment").get(f"/charges?{query}")
    assert response.status_code == 422


# --- refused requests write nothing ----------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {KEY: ""}, {KEY: "k" * 256}])
@pytest.mark.parametrize("action", ["authorize", "capture", "void"])
def test_missing_or_bad_idempotency_key_is_400(store, headers, action):
    authorization_id = authorized(store)
    before = counts(store)
    client = store.client("payment")
    if action == "authorize":
        response = client.post("/authorizations", json=auth_body(), headers=headers)
    else:
        response = client.post(f"/authorizations/{authorization_id}/{action}", headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("missing_idempotency_key", KEY)
    assert counts(store) == before
    assert status_of(store, authorization_id) == "authorized"


def test_a_255_character_key_is_accepted(store):
    assert authorize(store, "k" * 255).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[1, 2]", 400, "body"),
        ("", 400, "body"),
        (raw(amount_cents=MISSING), 422, "amount_cents"),
        (raw(amount_cents=0), 422, "amount_cents"),
        (raw(amount_cents=-5), 422, "amount_cents"),
        (raw(amount_cents=100_000_001), 422, "amount_cents"),
        (raw(amount_cents="25"), 422, "amount_cents"),
        (raw(amount_cents=25.5), 422, "amount_cents"),
        (raw(amount_cents=True), 422, "amount_cents"),
        (raw(amount_cents=None), 422, "amount_cents"),
        (raw(currency="EUR"), 422, "currency"),
        (raw(currency=MISSING), 422, "currency"),
        (raw(card_token="visa"), 422, "card_token"),
        (raw(card_token=4242), 422, "card_token"),
        (raw(card_token="tok_" + "x" * 200), 422, "card_token"),
        (raw(reference=""), 422, "reference"),
        (raw(reference="r" * 101), 422, "reference"),
        (raw(reference=MISSING), 422, "reference"),
        (raw(cvv="123"), 422, "cvv"),
    ],
)
def test_authorize_bad_input_writes_nothing(store, body, status, field):
    response = store.client("payment").post(
        "/authorizations", data=body, content_type="application/json", headers={KEY: "bad"}
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert set(counts(store).values()) == {0}


def test_a_key_refused_for_bad_input_can_be_used_afterwards(store):
    bad = authorize(store, "k", amount_cents=0)
    assert bad.status_code == 422
    assert authorize(store, "k").status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ("{bad", 400, "body"),
        ("[]", 400, "body"),
        ("null", 400, "body"),
        ('{"amount_cents": 5}', 422, "amount_cents"),
    ],
)
@pytest.mark.parametrize("action", ["capture", "void"])
def test_capture_and_void_bad_body_write_nothing(store, action, body, status, field):
    authorization_id = authorized(store)
    before = counts(store)
    response = act(
        store, authorization_id, action, "k2", data=body, content_type="application/json"
    )
    assert response.status_code == status
    assert response.get_json()["error"]["field"] == field
    assert counts(store) == before
    assert status_of(store, authorization_id) == "authorized"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/authorizations"),
        ("put", "/authorizations/auth_x/capture"),
        ("get", "/authorizations/auth_x/void"),
        ("delete", "/authorizations/auth_x"),
        ("post", "/charges"),
    ],
)
def test_wrong_method_is_405(store, method, path):
    response = getattr(store.client("payment"), method)(path, headers={KEY: "k"})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_oversized_body_is_413_and_writes_nothing(store):
    big = '{"reference": "' + "r" * (store.settings.max_body_bytes + 10) + '"}'
    response = store.client("payment").post(
        "/authorizations", data=big, content_type="application/json", headers={KEY: "big"}
    )
    assert response.status_code == 413
    assert set(counts(store).values()) == {0}


# --- the idempotency mechanism and latency ---------------------------------------------------


@pytest.mark.parametrize("failure", [Unprocessable("bad", field="x"), RuntimeError("boom")])
def test_failed_work_lets_go_of_the_key(store, failure):
    db = store.ctx("payment").db

    def work(conn):
        raise failure

    with pytest.raises(type(failure)):
        execute(db, "k", "hash", work)
    assert count(store, idempotency) == 0
    outcome = execute(db, "k", "hash", lambda conn: (200, {"ok": True}))
    assert (outcome.status, outcome.replayed) == (200, False)


def test_network_delay_is_latency_plus_or_minus_jitter(store, monkeypatch):
    slow_gateway(store, monkeypatch, latency_ms=100.0, jitter_ms=40.0)
    delays = [network_delay_s(store.ctx("payment")) for _ in range(200)]
    assert all(0.06 <= d <= 0.14 for d in delays)
    assert max(delays) - min(delays) > 0.04


def test_network_delay_is_never_negative(store, monkeypatch):
    slow_gateway(store, monkeypatch, latency_ms=5.0, jitter_ms=50.0)
    assert min(network_delay_s(store.ctx("payment")) for _ in range(200)) == 0.0


def test_operations_wait_for_the_network_but_replays_do_not(store, monkeypatch):
    assert gateway(store).wait is time.sleep  # the real gateway really waits
    slow_gateway(store, monkeypatch, latency_ms=80.0)
    waits: list[float] = []
    monkeypatch.setattr(gateway(store), "wait", waits.append)
    authorize(store, "slow")
    assert waits == [0.08]
    replay = authorize(store, "slow")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert waits == [0.08]  # answered from the idempotency store, without the network
    act(store, authorized(store, "other"), "capture", "cap-1")
    assert waits == [0.08, 0.08, 0.08]


def test_with_keys_checked_remotely_replays_wait_for_the_network_too(store, monkeypatch):
    settings = store.settings.replace(
        payment_latency_ms=80.0, payment_jitter_ms=0.0, payment_round_trip_every_call=True
    )
    monkeypatch.setattr(store.ctx("payment"), "settings", settings)
    waits: list[float] = []
    monkeypatch.setattr(gateway(store), "wait", waits.append)
    authorize(store, "far")
    replay = authorize(store, "far")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert waits == [0.08, 0.08]  # the retry made the round trip as well
    assert count(store, authorizations) == 1  # and was still answered from the key


def test_captures_are_counted_by_result_replays_apart(store):
    # What the verdict reads as "captures by result": the capture rows of the operations counter.
    first, second = authorized(store, "auth-a"), authorized(store, "auth-b")
    assert act(store, first, "capture", "cap-a").status_code == 200
    assert act(store, first, "capture", "cap-a").status_code == 200  # a replay: no new capture
    assert act(store, first, "capture", "cap-other").status_code == 409  # already captured
    assert act(store, second, "void", "void-b").status_code == 200
    assert act(store, second, "capture", "cap-b").status_code == 409  # voided
    assert operations(store, "capture", "approved") == 1 == count(store, charges)
    assert operations(store, "capture", "conflict") == 2
    assert operations(store, "capture", "declined") == 0
    replays = store.metric(
        "payment", "shopsim_payment_idempotent_replays_total", {"operation": "capture"}
    )
    assert replays == 1
