"""`shopsim gameday`: one scenario end to end, cleaned up on every exit path.

Order of work: run directory; the store (started and seeded here, or a running one given by
--target); the load process; the fault and resilience timeline in a thread; then once a second
scrape every source, derive, show a line, check stop conditions, until the load ends or the
scenario's time is up. However it ends (normally, a stop condition, an error, Ctrl-C, SIGTERM)
the timeline resets every fault and restores resilience, Locust is stopped, the store is
stopped if this run started it, and the manifest records the outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsim.db import public_url
from shopsim.faults.control import ChaosClient
from shopsim.faults.timeline import Timeline, TimelineEvent
from shopsim.gameday import datamap
from shopsim.gameday.bundled import loadtests_dir, locustfile
from shopsim.gameday.derive import Deriver, active_faults
from shopsim.gameday.live import LiveView, worth_warning
from shopsim.gameday.loader import to_plan, to_timeline
from shopsim.gameday.loadproc import LoadProcess
from shopsim.gameday.rundir import RunDir
from shopsim.gameday.sampler import Sampler, free_ports, load_sources
from shopsim.gameday.statusposter import auto_poster
from shopsim.gameday.stopwatch import StopWatch
from shopsim.prom.firings import record_alerts
from shopsim.prom.rules import SERVICE_JOB
from shopsim.prom.scrape import write_config
from shopsim.prom.server import PrometheusServer
from shopsim.runner import Stack, check_health
from shopsim.seed import apply, generate
from shopsim.settings import SERVICE_NAMES, Settings
from shopsim.verdict.slo import factor_for, slos_of

STOP_TIMEOUT_S = 5  # Locust's --stop-timeout: journeys in flight at the end may finish
# After the scenario's time, how long Locust may take to drain and exit by itself.
GRACE_S = STOP_TIMEOUT_S + 7.0

EXIT_OK, EXIT_ERROR, EXIT_STOPPED, EXIT_INTERRUPTED = 0, 1, 3, 130


@dataclass
class Outcome:
    status: str  # completed | stopped | interrupted | error
    exit_code: int
    reason: str = ""


class GameDay:
    """One run of one scenario."""

    def __init__(
        self,
        scenario: Any,
        scenario_path: Path,
        *,
        out: Path,
        time_scale: float = 1.0,
        load_processes: int = 1,
        port_base: int = 8100,
        use_running: bool = False,
        db_url: str | None = None,
        prometheus: bool = False,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.scenario = scenario
        self.scenario_path = scenario_path
        self.scale = time_scale
        self.processes = load_processes
        self.use_running = use_running
        self.prometheus = prometheus
        self.prom: PrometheusServer | None = None  # a Prometheus of its own (--prometheus)
        self.echo = echo
        self.run_dir = RunDir.create(out, scenario.name)
        store = scenario.store
        threads = dict(Settings().threads) | dict(store.threads if store else {})
        changes: dict[str, Any] = {"threads": threads}
        if store and store.admission:
            changes["admission_max_in_flight"] = dict(store.admission)
        if store and store.payment_round_trip_every_call:
            changes["payment_round_trip_every_call"] = True
        if store and store.payment_latency_ms is not None:
            changes["payment_latency_ms"] = store.payment_latency_ms
        self.settings = Settings.from_environment(
            port_base=port_base,
            run_dir=str(self.run_dir.root / "store"),
            seed=scenario.seed,
            db_url=db_url,
        ).replace(**changes)
        # Where each service keeps its data; a running store is asked once it is known healthy.
        self.databases: dict[str, str | None] | None = (
            None if use_running else dict(datamap.configured(self.settings))
        )
        self.duration_s = scenario.duration_s / time_scale
        self.load_started_at: float | None = None
        self.stop = threading.Event()  # ends the timeline; set at the end of every run
        self.interrupted = threading.Event()  # Ctrl-C / SIGTERM asked the run to end
        self.poster: Any = None  # the status page's auto-poster, when the scenario asks

    def interrupt(self) -> None:
        """Ask the run to end at the next safe point (a signal handler calls this)."""
        self.interrupted.set()
        self.stop.set()

    def _checkpoint(self) -> None:
        if self.interrupted.is_set():
            raise KeyboardInterrupt

    def run(self) -> Outcome:
        """Carry the scenario out; always cleans up."""
        rd, settings = self.run_dir, self.settings
        rd.copy_scenario(self.scenario_path)
        started = time.time()
        rd.manifest(self._manifest(started, None))
        stack: Stack | None = None
        load: LoadProcess | None = None
        sampler: Sampler | None = None
        timeline_thread: threading.Thread | None = None
        outcome = Outcome("error", EXIT_ERROR, "did not start")
        errors: list[BaseException] = []
        try:
            locustfile()  # before anything starts: shopsim installed without its Locust project
            if self.use_running:
                down = [h.service for h in check_health(settings) if not h.ok]
                if down:
                    raise RuntimeError(f"the store at --target is not healthy: {', '.join(down)}")
                self.databases = datamap.reported(settings)
                rd.manifest(self._manifest(started, None))
            else:
                apply(settings, generate(self.scenario.seed), fresh=True)
                self._checkpoint()
                stack = Stack(settings)
                stack.start()
            self._checkpoint()
            # The master's port and one per worker after it: all of them free.
            metrics_port = free_ports(self.processes + 1)
            plan = to_plan(self.scenario, self.scale, metrics_port, customers=200)
            timeline: Timeline = to_timeline(self.scenario, self.scale)
            with ChaosClient(settings) as chaos:
                chaos.reset()  # start from a clean store
            load = LoadProcess(
                host=settings.url("storefront"),
                plan=plan,
                out_dir=rd.root,
                run_time_s=self.duration_s + GRACE_S,  # a hard stop behind the shape's end
                stop_timeout_s=STOP_TIMEOUT_S,
                processes=self.processes,
            )
            sources = {name: settings.metrics_url(name) for name in SERVICE_NAMES}
            sources |= load_sources(metrics_port, self.processes)
            sampler = Sampler(sources, rd.samples)
            if self.prometheus:
                self._start_prometheus(load_sources(metrics_port, self.processes))
            self._checkpoint()
            t0 = time.monotonic()
            self.load_started_at = time.time()  # the verdict's clock starts here
            self.poster = auto_poster(self, self.load_started_at)
            load.start()
            timeline_thread = threading.Thread(
                target=self._run_timeline, args=(timeline, errors), name="timeline", daemon=True
            )
            timeline_thread.start()
            outcome = self._watch(t0, load, sampler, stack, errors)
        except KeyboardInterrupt:
            outcome = Outcome("interrupted", EXIT_INTERRUPTED, "interrupted (Ctrl-C or SIGTERM)")
        except Exception as exc:  # reported, then cleaned up like every other ending
            outcome = Outcome("error", EXIT_ERROR, f"{type(exc).__name__}: {exc}")
        finally:
            self._cleanup(timeline_thread, load, sampler, stack)
            rd.manifest(self._manifest(started, outcome))
            rd.close()
        return outcome

    def _start_prometheus(self, load_urls: dict[str, str]) -> None:
        """Prometheus with the scenario's rules, scraping the store before the load starts."""
        where = self.run_dir.root / "prometheus"
        config = write_config(
            where,
            self.settings,
            load_urls,
            slos_of(self.scenario),
            factor_for(self.scale),
        )
        self.prom = PrometheusServer(config, where / "data")
        self.prom.start()
        self.prom.wait_targets_up(SERVICE_JOB)
        self.echo(f"prometheus {self.prom.url} scraping every second (data in {where})")

    def _finish_prometheus(self, prom: PrometheusServer) -> None:
        """Record which alerts Prometheus fired when, then stop it, whatever happens."""
        try:
            if self.load_started_at is not None:
                found = record_alerts(
                    prom, self.load_started_at, time.time(), self.run_dir.root / "prometheus"
                )
                self.echo(f"prometheus: {len(found)} alert firings recorded")
        except Exception as exc:  # noqa: BLE001 - reported; the run's own results stand
            self.echo(f"prometheus: could not read its alerts: {exc}")
        finally:
            prom.stop()
            self.prom = None

    def _run_timeline(self, timeline: Timeline, errors: list[BaseException]) -> None:
        try:
            with ChaosClient(self.settings) as chaos:
                timeline.run(chaos, stop=self.stop, on_event=self._on_fault_event, hold=True)
        except BaseException as exc:  # the watcher sees it and ends the run
            errors.append(exc)

    def _on_fault_event(self, event: TimelineEvent) -> None:
        self.run_dir.fault_event(event)

    def _watch(
        self,
        t0: float,
        load: LoadProcess,
        sampler: Sampler,
        stack: Stack | None,
        errors: list[BaseException],
    ) -> Outcome:
        deriver = Deriver(started_at=time.time() - (time.monotonic() - t0))
        stops = StopWatch(list(self.scenario.stop_conditions), self.scale)
        live = LiveView(self.echo, self.scenario, self.scale)
        next_tick = t0
        while True:
            next_tick += 1.0
            if self.interrupted.wait(max(0.0, next_tick - time.monotonic())):
                raise KeyboardInterrupt
            elapsed = time.monotonic() - t0
            snap = sampler.scrape()
            if self.poster is not None:
                self.poster.offer(snap)
            values = deriver.push(snap)
            faults = active_faults(snap)
            phase = live.phase(elapsed)
            self.run_dir.row(elapsed, phase, values, faults)
            # After the schedule the load's processes exit one by one: that is no failure.
            expected = elapsed < self.duration_s and load.running()
            live.show(elapsed, phase, values, faults, worth_warning(snap.failed, expected))
            if errors:
                raise RuntimeError(f"fault timeline failed: {errors[0]}")
            if stack is not None and (dead := stack.dead()):
                return Outcome("error", EXIT_ERROR, f"service process died: {', '.join(dead)}")
            reason = stops.check(values, elapsed)
            if reason:
                self.echo(f"stop condition met: {reason}")
                return Outcome("stopped", EXIT_STOPPED, reason)
            if not load.running():
                if elapsed + 1.5 < self.duration_s:
                    return Outcome(
                        "error", EXIT_ERROR, f"locust exited early with status {load.returncode}"
                    )
                return Outcome("completed", EXIT_OK)
            if elapsed > self.duration_s + GRACE_S:
                return Outcome("completed", EXIT_OK, "locust stopped after the scenario's time")

    def _cleanup(
        self,
        timeline_thread: threading.Thread | None,
        load: LoadProcess | None,
        sampler: Sampler | None,
        stack: Stack | None,
    ) -> None:
        self.stop.set()
        if timeline_thread is not None:
            timeline_thread.join(timeout=30)  # it resets faults and restores resilience
        if load is not None:
            load.stop()
        if self.poster is not None:
            self.poster.finish()  # resolves an open incident, the store still up
        if sampler is not None:
            sampler.close()
        if self.prom is not None:
            self._finish_prometheus(self.prom)
        try:
            with ChaosClient(self.settings) as chaos:
                chaos.reset()  # belt and braces: nothing stays active after a game day
        except Exception:  # noqa: BLE001 - the store may already be gone
            pass
        if stack is not None:
            stack.stop()

    def _manifest(self, started: float, outcome: Outcome | None) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "scenario_file": str(self.scenario_path),
            "locustfile": str(loadtests_dir() / "locustfile.py"),
            "seed": self.scenario.seed,
            "time_scale": self.scale,
            "load_processes": self.processes,
            "store": "running store (--target)" if self.use_running else "started by gameday",
            "storefront": self.settings.url("storefront"),
            "db_url": public_url(self.settings.db_url) if self.settings.db_url else None,
            "databases": self.databases,  # service -> SQLAlchemy URL, no password
            "started_at": started,
            "load_started_at": self.load_started_at,
            "ended_at": None if outcome is None else time.time(),
            "outcome": None if outcome is None else outcome.__dict__,
        }
