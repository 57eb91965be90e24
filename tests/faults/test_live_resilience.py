"""Live resilience settings: a reset puts the defaults back, and a change may carry a duration,
after which it is as if it had never been made (later changes still hold)."""

from __future__ import annotations

import pytest

from tests.conftest import Store
from tests.faults.conftest import LOOPBACK, add_fault, buy, wait_for

NO_RETRIES = {"dependencies": {"payment": {"retries": 0}}, "admission_max_in_flight": 7}


def _get(store) -> dict:
    response = store.client("checkout").get("/_chaos/resilience", environ_base=LOOPBACK)
    assert response.status_code == 200
    return response.get_json()


def _put(store, body: dict, status: int = 200) -> dict:
    response = store.client("checkout").put("/_chaos/resilience", json=body, environ_base=LOOPBACK)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _retries_made(store) -> float:
    labels = {"service": "checkout", "dependency": "payment"}
    return store.metric("checkout", "shopsim_dependency_retries_total", labels)


def _payment(body: dict) -> dict:
    return body["dependencies"]["payment"]


def test_reset_restores_the_default_resilience_settings(chaos):
    defaults = _get(chaos)
    assert defaults["defaults"] is True and defaults["expiring"] == []
    changed = _put(chaos, NO_RETRIES)
    assert _payment(changed)["retries"] == 0 and changed["admission_max_in_flight"] == 7
    assert changed["defaults"] is False
    _put(chaos, {"dependencies": {"cart": {"timeout_s": 0.5}}})  # a second change on top
    reset = chaos.client("checkout").post("/_chaos/reset", json={}, environ_base=LOOPBACK)
    assert reset.status_code == 200
    assert reset.get_json() == {"service": "checkout", "removed": 0, "resilience_restored": True}
    assert _get(chaos) == defaults
    assert chaos.ctx("checkout").admission.limit == defaults["admission_max_in_flight"]
    again = chaos.client("checkout").post("/_chaos/reset", json={}, environ_base=LOOPBACK)
    assert again.get_json()["resilience_restored"] is False  # nothing left to undo
    # and the defaults are what the next call uses: two retries of a failing payment
    add_fault(chaos, {"type": "error", "target": "payment", "duration_s": 60})
    assert buy(chaos, "after-reset").status_code == 503
    assert _retries_made(chaos) == 2


def test_a_timed_change_is_listed_with_the_time_it_has_left(chaos):
    changed = _put(chaos, NO_RETRIES | {"duration": "1h"})
    assert _payment(changed)["retries"] == 0
    (listed,) = changed["expiring"]
    assert listed["dependencies"] == {"payment": {"retries": 0}}
    assert listed["admission_max_in_flight"] == 7
    assert 0 < listed["expires_in_s"] <= 3600
    add_fault(chaos, {"type": "error", "target": "payment", "duration_s": 60})
    assert buy(chaos, "during").status_code == 503
    assert _retries_made(chaos) == 0  # in force: no retries


def test_a_timed_change_undoes_itself_and_later_changes_stay(chaos):
    defaults = _get(chaos)
    _put(chaos, {"dependencies": {"payment": {"retries": 4}}})  # until reset
    _put(chaos, NO_RETRIES | {"duration_s": 0.05})
    _put(chaos, {"dependencies": {"payment": {"timeout_s": 1.0}}})  # until reset, made later
    after = wait_for(lambda: (body := _get(chaos))["expiring"] == [] and body, what="expiry")
    assert _payment(after)["retries"] == 4  # the earlier change is back in force
    assert _payment(after)["timeout_s"] == 1.0  # the later one stays
    assert after["admission_max_in_flight"] == defaults["admission_max_in_flight"]
    assert after["defaults"] is False


def test_the_sweeper_ends_a_timed_admission_change_without_any_call(store, settings):
    live = Store(settings.replace(background=True), store.data)  # every service's sweeper on
    try:
        admission = live.ctx("payment").admission
        default = admission.limit
        body = {"admission_max_in_flight": 3, "duration_s": 0.05}
        response = live.client("payment").put(
            "/_chaos/resilience", json=body, environ_base=LOOPBACK
        )
        assert response.status_code == 200
        wait_for(lambda: admission.limit == default, what="the limit back to its default")
    finally:
        live.close()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"duration_s": 0}, "duration_s"),
        ({"duration_s": -1}, "duration_s"),
        ({"duration_s": 3601}, "duration_s"),
        ({"duration_s": "60"}, "duration_s"),
        ({"duration_s": True}, "duration_s"),
        ({"duration": "soon"}, "duration"),
        ({"duration": "0s"}, "duration"),
        ({"duration": "2h"}, "duration"),
        ({"duration": 60}, "duration"),
        ({"duration": "60s", "duration_s": 60}, "duration"),
    ],
)
def test_bad_durations_are_400_and_change_nothing(chaos, extra, field):
    before = _get(chaos)
    error = _put(chaos, NO_RETRIES | extra, status=400)["error"]
    assert error["field"] == field and error["code"] == "invalid_resilience"
    assert _get(chaos) == before
