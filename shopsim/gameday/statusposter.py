"""Auto-posting to the status page during a game day, from the verdict's own alerts.

When a page-level alert fires, an incident opens ("investigating") naming the components hurt;
while alerts keep firing an update follows every `update_every` ("identified"); once they clear
it goes to "monitoring", and after `resolve_after` of quiet it resolves, saying whether any data
was harmed (the verdict's integrity audit, run on the store's data at that moment). A run that
ends with the incident open resolves it then. Every post is written to the storefront's
status page through its operator port and recorded in the run directory's ``status.jsonl``.

The work happens in a thread of its own: the watcher hands over each round's snapshot and never
waits for alert evaluation, audits or the status page.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from shopsim.faults.guard import TOKEN_HEADER
from shopsim.gameday.livealerts import Firing, LiveAlerts
from shopsim.gameday.sampler import Snapshot
from shopsim.gameday.statuswords import TITLES, components_hurt, data_statement, describe
from shopsim.settings import CHAOS_TOKEN_ENV, Settings
from shopsim.verdict.integrity import read_store
from shopsim.verdict.slo import MIN_WINDOW_S, factor_for, slos_of

#: PostFn(method, path, body) -> the status page's answer (JSON), or raises.
PostFn = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class StatusClient:
    """Writes to the storefront's status page through its operator side port."""

    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        token = os.environ.get(CHAOS_TOKEN_ENV)
        self.base = f"{settings.operator_url('storefront')}/_status"
        self._http = httpx.Client(timeout=timeout_s, headers={TOKEN_HEADER: token} if token else {})

    def __call__(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send one write; raise on anything but success."""
        response = self._http.request(method, self.base + path, json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def close(self) -> None:
        """Close connections."""
        self._http.close()


class StatusPoster:
    """Turns live alerts into status-page posts, in a thread of its own."""

    def __init__(
        self,
        live: LiveAlerts,
        post: PostFn,
        record: Path,
        databases: Callable[[], Mapping[str, str | None] | None],
        *,
        update_every_s: float,
        resolve_after_s: float,
        echo: Callable[[str], None] = print,
        clock: Callable[[], float] | None = None,
        on_finish: Callable[[], None] | None = None,
    ) -> None:
        self.on_finish = on_finish or (lambda: None)
        self.live = live
        self.clock = clock or (lambda: time.time() - live.origin)  # run seconds, for records
        self.post = post
        self.record = record
        self.databases = databases
        self.update_every_s = update_every_s
        self.resolve_after_s = resolve_after_s
        self.echo = echo
        self.incident: int | None = None
        self.state = "none"  # none | firing | monitoring
        self.last_post_s = 0.0
        self.quiet_since_s = 0.0
        self.hurt: dict[str, str] = {}
        self.errors: list[str] = []
        self._inbox: queue.Queue[Snapshot | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="status-poster", daemon=True)

    def start(self) -> None:
        """Start the poster's thread."""
        self._thread.start()

    def offer(self, snap: Snapshot) -> None:
        """Hand over one round's snapshot (never blocks)."""
        self._inbox.put(snap)

    def finish(self, timeout_s: float = 60.0) -> None:
        """Take the last rounds, resolve an open incident, and stop the thread."""
        self._inbox.put(None)
        self._thread.join(timeout=timeout_s)
        self.on_finish()

    def _run(self) -> None:
        done = False
        while not done:
            got = [self._inbox.get()]
            while not self._inbox.empty():  # evaluate once for every round that piled up
                got.append(self._inbox.get())
            for snap in got:
                if snap is None:
                    done = True
                else:
                    self.live.add(snap)
            try:
                self.step(self.live.now(), final=done)
            except Exception as exc:  # noqa: BLE001 - a failed post must not end the run
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self.echo(f"status page: could not post ({type(exc).__name__}: {exc})")

    def step(self, firing: Firing, *, final: bool = False) -> None:
        """Decide and make this round's post, if any."""
        now = firing.at_s
        if firing.alerts:
            self.hurt = _merge(self.hurt, components_hurt(firing))
            if self.state == "none":
                self._open(firing)
            elif self.state == "monitoring":
                self._update(now, "identified", describe("returned", self.hurt, firing), firing)
            elif now - self.last_post_s >= self.update_every_s:
                self._update(now, "identified", describe("ongoing", self.hurt, firing), firing)
            self.state = "firing"
        elif self.state == "firing":
            self.quiet_since_s = now
            self._update(now, "monitoring", describe("monitoring", self.hurt, firing), firing)
            self.state = "monitoring"
        elif self.state == "monitoring" and now - self.quiet_since_s >= self.resolve_after_s:
            self._resolve(now, firing, ended=False)
        if final and self.state != "none":
            self._resolve(now, firing, ended=True)

    def _open(self, firing: Firing) -> None:
        message = describe("investigating", self.hurt, firing)
        names = ", ".join(TITLES.get(c, c) for c in sorted(self.hurt))
        body = {
            "name": f"Problems with {names}",
            "message": message,
            "status": "investigating",
            "impact": _impact(self.hurt),
            "components": self.hurt,
        }
        answer = self.post("POST", "/incidents", body)
        self.incident = int(answer["id"])
        self._write(firing.at_s, "investigating", message, firing, self.hurt)

    def _update(self, now: float, status: str, message: str, firing: Firing) -> None:
        components = (
            {c: "degraded_performance" for c in self.hurt} if status == "monitoring" else self.hurt
        )
        body = {"status": status, "message": message, "components": components}
        self.post("POST", f"/incidents/{self.incident}/updates", body)
        self._write(now, status, message, firing, components)

    def _resolve(self, now: float, firing: Firing, *, ended: bool) -> None:
        databases = self.databases()
        integrity = read_store(databases, time.time()).integrity if databases else None
        impact, words = data_statement(integrity)
        message = describe("resolved_at_end" if ended else "resolved", self.hurt, firing)
        message = f"{message} {words}"
        body = {"status": "resolved", "message": message}
        self.post("POST", f"/incidents/{self.incident}/updates", body)
        self._write(now, "resolved", message, firing, {}, data_impact=impact)
        self.state, self.incident, self.hurt = "none", None, {}

    def _write(
        self,
        now: float,
        status: str,
        message: str,
        firing: Firing,
        components: Mapping[str, str],
        **extra: Any,
    ) -> None:
        posted_s = self.clock()  # when it went out, not when its data was scraped
        line = {
            "at_s": round(posted_s, 2),
            "at": round(self.live.origin + posted_s, 3),
            "incident": self.incident,
            "status": status,
            "message": message,
            "components": dict(components),
            "alerts": [a.name for a in firing.alerts],
            **extra,
        }
        self.last_post_s = now
        with self.record.open("a") as handle:
            handle.write(json.dumps(line) + "\n")
        self.echo(f"status page: {status}: {message}")


def _merge(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """Every component hurt so far (none dropped from the incident), each at its status now:
    one that has recovered while others still fail is operational again."""
    return {c: "operational" for c in old} | dict(new)


def _impact(hurt: Mapping[str, str]) -> str:
    """Statuspage's impact from the worst component status."""
    worst = set(hurt.values())
    if "major_outage" in worst:
        return "critical"
    if "partial_outage" in worst:
        return "major"
    return "minor"


def auto_poster(game: Any, origin: float) -> StatusPoster | None:
    """The poster a game day runs when its scenario asks for auto-posting (started), or None."""
    settings = game.scenario.status_page
    if not settings.auto_post:
        return None
    factor = factor_for(game.scale)
    live = LiveAlerts(origin, slos_of(game.scenario), factor, max(MIN_WINDOW_S, 300 / factor))
    client = StatusClient(game.settings)
    poster = StatusPoster(
        live,
        client,
        game.run_dir.root / "status.jsonl",
        lambda: game.databases,
        update_every_s=settings.update_every_s / game.scale,
        resolve_after_s=settings.resolve_after_s / game.scale,
        echo=game.echo,
        on_finish=client.close,
    )
    poster.start()
    return poster
