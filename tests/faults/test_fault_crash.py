"""crash: the target's gunicorn master and worker die by SIGKILL and their Stack restarts them.

Real processes (one Stack for the whole file): the in-process store has no supervisor, so there
it must refuse and kill nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shopsim.faults.control import ChaosClient, ChaosError
from shopsim.settings import Settings
from tests.conftest import wait_for
from tests.faults.conftest import LOOPBACK

CUSTOMER, SKU = 11, "SKU-0002"


def _crash(target: str, duration_s: float, probability: float = 1.0, **params: Any) -> dict:
    return {
        "type": "crash",
        "target": target,
        "probability": probability,
        "duration_s": duration_s,
        "params": params,
    }


def _dependency_errors(settings: Settings, service: str, dependency: str) -> float:
    text = httpx.get(settings.metrics_url(service), timeout=5).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "shopsim_dependency_requests_total"
        and s.labels["dependency"] == dependency
        and s.labels["outcome"] != "success"
    )


def test_crash_is_refused_without_a_supervisor(chaos):
    response = chaos.client("cart").post(
        "/_chaos/faults", json=_crash("cart", 30), environ_base=LOOPBACK
    )
    assert response.status_code == 409
    assert "no supervisor" in response.get_json()["error"]["message"]
    listed = chaos.client("cart").get("/_chaos/faults", environ_base=LOOPBACK).get_json()
    assert listed["faults"] == []  # refused: not active either


@pytest.mark.processes
def test_crash_kills_the_target_and_its_stack_restarts_it_with_its_data(live_settings, start_stack):
    settings = live_settings
    stack = start_stack(settings)
    api = f"{settings.url('storefront')}/api/customers/{CUSTOMER}/cart"
    with httpx.Client(timeout=10) as http, ChaosClient(settings) as chaos:
        assert http.post(f"{api}/items", json={"sku": SKU, "quantity": 2}).status_code == 200

        # probability 0: the draw does not fire, the process lives on through the fault
        pid = stack.procs["registry"].pid
        chaos.add(_crash("registry", 60, probability=0.0, restart_after_s=0) | {"name": "p0"})
        listed = {f.fault["name"]: f.fault for f in chaos.list()}
        assert listed["p0"]["injections"] == 0
        assert stack.procs["registry"].pid == pid and stack.procs["registry"].poll() is None
        chaos.remove("p0")

        before = _dependency_errors(settings, "storefront", "cart")
        old = stack.procs["cart"]
        chaos.add(_crash("cart", 60, restart_after_s=2))
        wait_for(lambda: old.poll() is not None, "cart's master to die")
        assert old.returncode == -9  # SIGKILL, no clean shutdown
        assert stack.crashed() == ["cart"] and stack.dead() == []
        with pytest.raises(ChaosError):  # its operator port went with it
            chaos.list()
        # callers see it in their own dependency metrics
        assert http.get(api).status_code == 503
        assert _dependency_errors(settings, "storefront", "cart") > before

        wait_for(lambda: stack.restarts, "cart's restart")
        (restart,) = stack.restarts
        assert restart["service"] == "cart"
        assert restart["restart_at"] - restart["crashed_at"] >= 2.0
        assert stack.procs["cart"] is not old and stack.procs["cart"].poll() is None
        # the same port, the same data: the line added before the crash is still there
        items = http.get(api).json()["items"]
        assert [(i["sku"], i["quantity"]) for i in items] == [(SKU, 2)]
        assert stack.crashed() == [] and stack.dead() == []

        # no restart delay: down for the fault's whole duration, back when it ends
        chaos.add(_crash("payment", 1.5))
        wait_for(lambda: len(stack.restarts) == 2, "payment's restart at the fault's end")
        payment = stack.restarts[1]
        assert payment["service"] == "payment"
        assert 1.0 <= payment["restart_at"] - payment["crashed_at"] <= 2.0
        assert httpx.get(f"{settings.url('payment')}/healthz").status_code == 200
        assert stack.failed_restarts == {}

        # a death with no crash record is reported and left alone, even past a watcher round
        stack.kill("notifications")
        chaos.add(_crash("inventory", 30, restart_after_s=0))
        wait_for(lambda: len(stack.restarts) == 3, "inventory's restart")
        assert stack.dead() == ["notifications"] and stack.procs["notifications"].poll() == -9


def test_gameday_against_a_running_store_refuses_crash_faults_at_load(tmp_path, capsys):
    from shopsim.cli import main
    from shopsim.gameday.bundled import scenarios_dir

    text = (scenarios_dir() / "cart-outage.yaml").read_text()
    assert "type: outage, target: cart}" in text
    path = tmp_path / "cart-crash.yaml"
    path.write_text(text.replace("type: outage, target: cart}", "type: crash, target: cart}"))
    target = "http://127.0.0.1:18100"
    assert main(["gameday", str(path), "--target", target, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "faults[0]: a crash fault needs the store the game day starts" in err
    assert not (tmp_path / "runs").exists() and len(list(tmp_path.iterdir())) == 1
