"""`shopsim fault` and the ChaosClient against a real store (one gunicorn process per service):
add, see it in /metrics and in checkout's dependency histogram, list, reset (resilience
included), refuse a bad spec and one over budget, roll back a spec one service refused, and let
a fault expire with nobody calling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shopsim.faults.control import ChaosClient, ChaosError
from shopsim.settings import Settings
from tests.conftest import free_port_base
from tests.faults.conftest import wait_for

pytestmark = pytest.mark.processes

ACTIVE = "shopsim_fault_active"


def _shopsim(settings, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "shopsim", "fault", *args]
    if args[0] != "types":
        command += ["--port-base", str(settings.port_base)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _metric(settings, service: str, name: str, labels: dict[str, str]) -> float | None:
    text = httpx.get(settings.metrics_url(service), timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def _active(settings, service: str, fault: str, target: str) -> float | None:
    return _metric(settings, service, ACTIVE, {"fault": fault, "target": target})


def _payment_calls(settings) -> float:
    """Every attempt checkout has made to payment so far."""
    text = httpx.get(settings.metrics_url("checkout"), timeout=30).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "shopsim_dependency_requests_total" and s.labels["dependency"] == "payment"
    )


def _quick_payment_calls(settings) -> float:
    """Checkout's calls to payment that took 250 ms or less."""
    labels = {"dependency": "payment", "le": "0.25"}
    bucket = "shopsim_dependency_request_duration_seconds_bucket"
    return _metric(settings, "checkout", bucket, labels) or 0.0


def _checkout(settings, customer: int) -> None:
    """A checkout through the storefront's API (the cart filled beforehand)."""
    with httpx.Client(base_url=settings.url("storefront"), timeout=60) as api:
        added = api.post(
            f"/api/customers/{customer}/cart/items", json={"sku": "SKU-0003", "quantity": 1}
        )
        assert added.status_code == 200, added.text
        body = {"idempotency_key": f"ctl-{uuid.uuid4()}", "card_token": "tok_visa"}
        placed = api.post(f"/api/customers/{customer}/checkout", json=body)
    assert placed.status_code == 201, placed.text


def _delays(settings) -> float:
    """Requests payment's latency faults have delayed so far."""
    labels = {"fault": "latency"}
    return _metric(settings, "payment", "shopsim_fault_injections_total", labels) or 0.0


def _retries(settings) -> int:
    url = f"{settings.operator_url('checkout')}/_chaos/resilience"
    return int(httpx.get(url, timeout=30).json()["dependencies"]["payment"]["retries"])


def _names(listing: str) -> list[str]:
    return [line.split()[0] for line in listing.splitlines() if line.startswith("  ")]


def test_fault_cli_adds_lists_resets_and_refuses_bad_specs(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    _checkout(settings, 10)  # warm up connections and caches

    added = _shopsim(
        settings, "add", "latency", "--target", "payment", "--param", "ms=300", "--duration", "60s"
    )
    assert added.returncode == 0, added.stderr
    assert "applied by payment" in added.stdout
    assert _active(settings, "payment", "latency", "payment") == 1.0
    assert _active(settings, "checkout", "latency", "payment") == 0.0  # inbound: payment's own

    calls_before, quick_before = _payment_calls(settings), _quick_payment_calls(settings)
    _checkout(settings, 15)
    calls = _payment_calls(settings) - calls_before
    assert calls == 2  # authorize and capture
    assert _quick_payment_calls(settings) == quick_before  # each took 300 ms or more
    assert _delays(settings) == 2

    listed = _shopsim(settings, "ls")
    assert listed.returncode == 0, listed.stderr
    (name,) = _names(listed.stdout)
    assert name.startswith("latency-payment-")
    assert "inbound" in listed.stdout and "payment" in listed.stdout

    with ChaosClient(settings) as chaos:  # a resilience change, which the reset undoes too
        chaos.set_resilience("checkout", {"dependencies": {"payment": {"retries": 0}}})
    assert _retries(settings) == 0
    reset = _shopsim(settings, "reset")
    assert reset.returncode == 0, reset.stderr
    assert "removed 1 fault(s); resilience settings back to their defaults" in reset.stdout
    assert _active(settings, "payment", "latency", "payment") == 0.0
    assert _retries(settings) == 2
    assert "no active faults" in _shopsim(settings, "ls").stdout
    _checkout(settings, 16)
    assert _delays(settings) == 2  # back to normal: nothing delayed since

    leak = ["add", "memory_leak", "--target", "cart", "--duration", "60s", "--probability", "0"]
    assert _shopsim(settings, *leak, "--param", "max_mb=2048").returncode == 0
    over = _shopsim(settings, *leak, "--param", "max_mb=1", "--name", "more")
    assert over.returncode == 1
    assert "cart refused the fault" in over.stderr and "memory_mb" in over.stderr, over.stderr
    assert _shopsim(settings, "reset").returncode == 0

    for args, option in (
        (["--param", "ms=fast"], "--param ms"),
        (["--param", "wait=3"], "--param wait"),
        (["--probability", "2"], "--probability"),
        (["--duration", "forever"], "--duration"),
        (["--target", "warehouse"], "--target"),
    ):
        spec = {"--target": "payment", "--duration": "60s"}
        spec.update(dict(zip(args[::2], args[1::2], strict=True)))
        bad = _shopsim(settings, "add", "latency", *[x for kv in spec.items() for x in kv])
        assert bad.returncode == 2, (args, bad.stdout)  # an argument mistake
        assert f"{option}: " in bad.stderr or f"{option} " in bad.stderr, bad.stderr
    usage = _shopsim(settings, "add", "latency", "--target", "payment")  # no --duration
    assert usage.returncode == 2
    assert "no active faults" in _shopsim(settings, "ls").stdout


def test_chaos_client_is_all_or_nothing_and_faults_expire_alone(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    # "dup" exists on checkout only, so a spec named "dup" that storefront, cart and checkout
    # would all carry out is refused by checkout after the first two took it
    first = httpx.post(
        f"{settings.operator_url('checkout')}/_chaos/faults",
        json={
            "name": "dup",
            "type": "latency",
            "target": "payment",
            "direction": "outbound",
            "duration_s": 60,
        },
        timeout=30,
    )
    assert first.status_code == 201, first.text
    spec = ["add", "latency", "--target", "catalog", "--direction", "outbound", "--name", "dup"]
    refused = _shopsim(settings, *spec, "--duration", "60s")
    assert refused.returncode == 1
    assert "checkout refused" in refused.stderr and "(name)" in refused.stderr, refused.stderr
    with ChaosClient(settings) as chaos:
        where = {(item.service, item.fault["target"]) for item in chaos.list()}
        assert where == {("checkout", "payment")}  # rolled back on storefront and cart; the
        for service in ("storefront", "cart"):  # first "dup" is untouched
            assert _active(settings, service, "latency", "catalog") == 0.0
        with pytest.raises(ChaosError, match="checkout refused"):
            outbound = {"type": "error", "target": "catalog", "direction": "outbound"}
            chaos.add(outbound | {"name": "dup", "duration_s": 60})
        assert {item.service for item in chaos.list()} == {"checkout"}
        assert chaos.remove("dup") == ["checkout"]

        name, services = chaos.add({"type": "outage", "target": "catalog", "duration": "60s"})
        assert services == ["storefront", "cart", "checkout"]
        assert sorted(chaos.remove(name)) == sorted(services)
        patched = chaos.set_resilience("checkout", {"dependencies": {"payment": {"retries": 0}}})
        assert patched["dependencies"]["payment"]["retries"] == 0
        with pytest.raises(ChaosError, match="retries"):
            chaos.set_resilience("checkout", {"dependencies": {"payment": {"retries": -1}}})

    # a fault outlives nothing: gone after its duration with no further command (10 s, so
    # that a busy machine still finds it active once the command has exited: 2 s did not)
    added = _shopsim(settings, "add", "error", "--target", "payment", "--duration", "10s")
    assert added.returncode == 0, added.stderr
    assert _active(settings, "payment", "error", "payment") == 1.0  # until the sweeper ends it
    wait_for(lambda: _active(settings, "payment", "error", "payment") == 0.0, what="expiry")
    listing = httpx.get(f"{settings.operator_url('payment')}/_chaos/faults", timeout=30).json()
    assert listing["faults"] == []


def test_chaos_token_from_the_environment_guards_a_real_store(tmp_path):
    settings = Settings(port_base=free_port_base())
    env = os.environ | {"SHOPSIM_CHAOS_TOKEN": "s3cret"}
    up = subprocess.Popen(
        [sys.executable, "-m", "shopsim", "up", "--port-base", str(settings.port_base)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert up.stdout is not None
        while "Ctrl-C stops all" not in (line := up.stdout.readline()):
            assert line, "shopsim up ended early"
        args = [
            "fault",
            "add",
            "latency",
            "--target",
            "payment",
            "--duration",
            "30s",
            "--port-base",
            str(settings.port_base),
        ]
        no_token = os.environ.copy()
        no_token.pop("SHOPSIM_CHAOS_TOKEN", None)
        refused = subprocess.run(
            [sys.executable, "-m", "shopsim", *args], env=no_token, capture_output=True, text=True
        )
        assert refused.returncode == 1 and "X-Shopsim-Chaos-Token" in refused.stderr
        allowed = subprocess.run(
            [sys.executable, "-m", "shopsim", *args], env=env, capture_output=True, text=True
        )
        assert allowed.returncode == 0, allowed.stderr
    finally:
        up.send_signal(signal.SIGTERM)
        up.communicate(timeout=60)
