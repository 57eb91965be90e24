"""The timeline runner against real processes: on schedule, and clean on every exit path."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from shopsim.faults.control import ChaosClient, ChaosError
from shopsim.faults.timeline import FaultAt, ResilienceAt, Timeline, TimelineError

pytestmark = pytest.mark.processes


def _active(settings, service: str) -> list[dict]:
    return httpx.get(f"{settings.url(service)}/_chaos/faults", timeout=5).json()["faults"]


def _gauge(settings, service: str, fault: str, target: str) -> float:
    text = httpx.get(f"{settings.url(service)}/metrics", timeout=5).text
    needle = f'shopsim_fault_active{{fault="{fault}",target="{target}"}} '
    line = next(x for x in text.splitlines() if x.startswith(needle))
    return float(line.split()[-1])


def _retries(settings) -> int:
    body = httpx.get(f"{settings.url('checkout')}/_chaos/resilience", timeout=5).json()
    return int(body["dependencies"]["payment"]["retries"])


def test_timeline_applies_and_removes_on_schedule(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    timeline = Timeline(
        [
            ResilienceAt(0.2, "checkout", {"dependencies": {"payment": {"retries": 0}}}),
            FaultAt(
                0.5,
                {"type": "latency", "target": "payment", "duration_s": 1.5, "params": {"ms": 5}},
            ),
            FaultAt(1.0, {"type": "error", "target": "catalog", "duration_s": 1.0}),
        ]
    )
    seen: list[tuple[float, float, list[dict]]] = []
    done = threading.Event()

    def watch(start: float) -> None:  # what a scraper sees, every 100 ms
        while not done.is_set():
            seen.append(
                (
                    time.monotonic() - start,
                    _gauge(settings, "payment", "latency", "payment"),
                    _active(settings, "catalog"),
                )
            )
            time.sleep(0.1)

    start = time.monotonic()
    watcher = threading.Thread(target=watch, args=(start,))
    watcher.start()
    with ChaosClient(settings) as chaos:
        events = timeline.run(chaos)
    done.set()
    watcher.join()

    actions = [(e.action, e.detail.get("name", "")[:7]) for e in events]
    assert [a for a, _ in actions] == ["resilience", "add", "add", "remove", "remove", "reset"]
    assert all(e.late_s < 1.0 for e in events[:-1]), [(e.action, e.late_s) for e in events]
    on = [t for t, g, _ in seen if g == 1.0]
    assert on and 0.4 <= on[0] <= 1.5 and on[-1] <= 2.0 + 1.0, on
    catalog_on = [t for t, _, active in seen if active]
    assert catalog_on and 0.9 <= catalog_on[0] <= 2.0 and catalog_on[-1] <= 2.0 + 1.0
    # Afterwards: nothing active anywhere, the resilience change undone.
    assert not _active(settings, "payment") and not _active(settings, "catalog")
    assert _retries(settings) == 2


def test_timeline_resets_when_stopped_midway(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    timeline = Timeline(
        [
            ResilienceAt(0.0, "checkout", {"dependencies": {"payment": {"retries": 0}}}),
            FaultAt(0.0, {"type": "latency", "target": "payment", "duration_s": 600}),
            FaultAt(30.0, {"type": "error", "target": "cart", "duration_s": 600}),
        ]
    )
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    with ChaosClient(settings) as chaos:
        events = timeline.run(chaos, stop=stop)
    assert [e.action for e in events] == ["resilience", "add", "reset"]
    assert not _active(settings, "payment") and not _active(settings, "cart")
    assert _retries(settings) == 2


def test_timeline_resets_when_an_entry_fails(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    # A fault of the same name is already on payment: the second entry is refused mid-run.
    httpx.post(
        f"{settings.url('payment')}/_chaos/faults",
        timeout=5,
        json={"name": "taken", "type": "error", "target": "payment", "duration_s": 600},
    )
    timeline = Timeline(
        [
            FaultAt(0.0, {"type": "latency", "target": "cart", "duration_s": 600}),
            FaultAt(
                0.2, {"name": "taken", "type": "latency", "target": "payment", "duration_s": 600}
            ),
        ]
    )
    with ChaosClient(settings) as chaos, pytest.raises(ChaosError, match="taken"):
        timeline.run(chaos)
    assert not _active(settings, "cart") and not _active(settings, "payment")


def test_timeline_resets_on_ctrl_c(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    script = (
        "import sys; from shopsim.settings import Settings;"
        "from shopsim.faults.control import ChaosClient;"
        "from shopsim.faults.timeline import FaultAt, Timeline;"
        f"s = Settings(port_base={settings.port_base});"
        "t = Timeline([FaultAt(0, {'type': 'latency', 'target': 'payment', 'duration_s': 600})]"
        " + [FaultAt(60, {'type': 'error', 'target': 'cart', 'duration_s': 60})]);"
        "print('running', flush=True);"
        "t.run(ChaosClient(s))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
    deadline = time.monotonic() + 10
    while not _active(settings, "payment") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _active(settings, "payment")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    assert not _active(settings, "payment")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (FaultAt(-1, {"type": "latency", "target": "payment", "duration_s": 1}), "negative"),
        (FaultAt(0, {"type": "nope", "target": "payment", "duration_s": 1}), "unknown fault"),
        (FaultAt(0, {"type": "latency", "target": "payment"}), "duration_s is required"),
    ],
)
def test_bad_timeline_entries_are_refused_before_anything_runs(entry, message):
    with pytest.raises(TimelineError, match=message) as info:
        Timeline([FaultAt(0, {"type": "latency", "target": "cart", "duration_s": 1}), entry])
    assert "entry 1" in str(info.value)
