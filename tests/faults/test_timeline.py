"""The timeline runner against real processes: in order, never early, and clean on every exit
path. What the store shows is read at each step (the runner's on_event), not at clock times."""

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
    url = f"{settings.operator_url(service)}/_chaos/faults"
    return httpx.get(url, timeout=30).json()["faults"]


def _gauge(settings, service: str, fault: str, target: str) -> float:
    text = httpx.get(settings.metrics_url(service), timeout=30).text
    needle = f'shopsim_fault_active{{fault="{fault}",target="{target}"}} '
    line = next(x for x in text.splitlines() if x.startswith(needle))
    return float(line.split()[-1])


def _retries(settings) -> int:
    url = f"{settings.operator_url('checkout')}/_chaos/resilience"
    body = httpx.get(url, timeout=30).json()
    return int(body["dependencies"]["payment"]["retries"])


LATENCY_AT, LATENCY_FOR, ERROR_AT, ERROR_FOR = 0.5, 4.0, 1.0, 2.0


def _expected(step: int, read_by_s: float) -> tuple[float, bool, int]:
    """(payment's latency gauge, catalog's error listed, checkout's retries) after step `step`,
    read by `read_by_s` into the run. A fault may already have expired on the service's own
    clock when the read came that late; never earlier."""
    latency = 1.0 if step in (1, 2, 3) and read_by_s < LATENCY_AT + LATENCY_FOR else 0.0
    error = step == 2 and read_by_s < ERROR_AT + ERROR_FOR
    return latency, error, 2 if step == 5 else 0


def test_timeline_applies_and_removes_in_order_and_never_early(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    latency = {"type": "latency", "target": "payment", "params": {"ms": 5}}
    timeline = Timeline(
        [
            ResilienceAt(0.2, "checkout", {"dependencies": {"payment": {"retries": 0}}}),
            FaultAt(LATENCY_AT, latency | {"duration_s": LATENCY_FOR}),
            FaultAt(ERROR_AT, {"type": "error", "target": "catalog", "duration_s": ERROR_FOR}),
        ]
    )
    began: list[float] = []
    seen: list[tuple[tuple[float, bool, int], float]] = []

    def clock() -> float:  # the runner's own clock; its first reading is the start
        began.append(now := time.monotonic())
        return now

    def look(event) -> None:  # called by the runner right after each step: the store's state
        state = (
            _gauge(settings, "payment", "latency", "payment"),
            bool(_active(settings, "catalog")),
            _retries(settings),
        )
        seen.append((state, time.monotonic() - began[0]))

    with ChaosClient(settings) as chaos:
        events = timeline.run(chaos, clock=clock, on_event=look)

    actions = [(e.action, e.detail.get("name", "")[:7]) for e in events]
    assert actions == [
        ("resilience", ""),
        ("add", "latency"),
        ("add", "error-c"),
        ("remove", "error-c"),  # the error ends before the latency does
        ("remove", "latency"),
        ("reset", ""),  # and the resilience change is undone (retries back to 2)
    ]
    for step, (state, read_by_s) in enumerate(seen):
        assert state == _expected(step, read_by_s), (step, state, read_by_s)
    assert all(e.done_s >= e.at_s for e in events), [(e.action, e.late_s) for e in events]
    assert not _active(settings, "payment") and not _active(settings, "catalog")


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

    def stop_after_the_add(event) -> None:  # stopped while it waits for the 30 s entry
        if event.action == "add":
            assert _active(settings, "payment")
            stop.set()

    with ChaosClient(settings) as chaos:
        events = timeline.run(chaos, stop=stop, on_event=stop_after_the_add)
    assert [e.action for e in events] == ["resilience", "add", "reset"]
    assert not _active(settings, "payment") and not _active(settings, "cart")
    assert _retries(settings) == 2


def test_timeline_resets_when_an_entry_fails(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    # A fault of the same name is already on payment: the second entry is refused mid-run.
    httpx.post(
        f"{settings.url('payment')}/_chaos/faults",
        timeout=30,
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


def _signal_state(pid: int) -> str:
    """The child's signal lines from /proc (pending, blocked, ignored, caught), for a failure."""
    with open(f"/proc/{pid}/status") as f:
        return " ".join(line.strip() for line in f if line.startswith("Sig"))


def test_timeline_resets_on_ctrl_c(live_settings, start_stack):
    settings = live_settings
    start_stack(settings)
    # The child starts as from a terminal, Ctrl-C deliverable: a signal disposition or mask
    # inherited from the test runner's process (once, under load, the first SIGINT never
    # arrived) is not what this test is about.
    script = (
        "import signal;"
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT});"
        "signal.signal(signal.SIGINT, signal.default_int_handler);"
        "from shopsim.settings import Settings;"
        "from shopsim.faults.control import ChaosClient;"
        "from shopsim.faults.timeline import FaultAt, Timeline;"
        f"s = Settings(port_base={settings.port_base});"
        "t = Timeline([FaultAt(0, {'type': 'latency', 'target': 'payment', 'duration_s': 600})]"
        " + [FaultAt(60, {'type': 'error', 'target': 'cart', 'duration_s': 60})]);"
        "t.run(ChaosClient(s), on_event=lambda e: print(e.action, flush=True))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "add"  # added everywhere; waiting for 60 s
        assert _active(settings, "payment")
        state = _signal_state(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=120)  # a deadline for a stuck child, not a timing
        except subprocess.TimeoutExpired:
            raise AssertionError(f"SIGINT did not stop the timeline; child had {state}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.split() == ["reset"] and "KeyboardInterrupt" in err, err
    assert proc.returncode != 0
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


def test_held_timeline_keeps_resilience_until_stopped(live_settings, start_stack):
    """A game day's timeline (`hold`): the last fault's removal does not undo the run's
    resilience settings; only the end of the run (`stop`) does."""
    settings = live_settings
    start_stack(settings)
    timeline = Timeline(
        [
            ResilienceAt(0.0, "checkout", {"dependencies": {"payment": {"retries": 0}}}),
            FaultAt(0.0, {"type": "latency", "target": "payment", "duration_s": 0.2}),
        ]
    )
    stop, removed = threading.Event(), threading.Event()
    events: list = []

    def look(event) -> None:
        if event.action == "remove":
            removed.set()

    def run() -> None:
        with ChaosClient(settings) as chaos:
            events.extend(timeline.run(chaos, stop=stop, on_event=look, hold=True))

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    assert removed.wait(60)
    assert _retries(settings) == 0  # the last step is done, the run's settings still hold
    assert runner.is_alive()
    stop.set()
    runner.join(60)
    assert [e.action for e in events] == ["resilience", "add", "remove", "reset"]
    assert _retries(settings) == 2
