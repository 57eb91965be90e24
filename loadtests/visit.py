"""A customer's visit: one client with its cookies, its dice, and pages checked as they come.

`Visit.page` sends one request with ``catch_response=True`` under a URL template, with its flow
(`flows.py`) in the request's context, checks the status and a marker of the page, recognises
the dog page and a sold-out checkout, and stops the journey (`JourneyStop`) when a page is not
what a customer should see. No Locust import.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .flows import CONTEXT_KEY, flow_of

ERROR_PAGE_MARK = "Something went wrong on our end"
# The count may be negative: after an oversell the store has fewer than none (on_hand -1) and
# says so; a customer reads that as sold out all the same.
SOLD_OUT = re.compile(r"only -?[0-9]+ of ([A-Z]+-[0-9]{4}) left in stock")


class ErrorPage(Exception):
    """The store answered with its dog page."""


class PageFailure(Exception):
    """A page that is not what a customer should see: status, content, or no answer."""


class JourneyFailed(Exception):
    """Why a journey did not end well (the failure of its JOURNEY event)."""


class JourneyStop(Exception):
    """Ends a journey early with a result other than ok."""

    def __init__(self, result: str, reason: str) -> None:
        super().__init__(reason)
        self.result = result


class Level(Protocol):
    """A gauge to count what is in flight (prometheus_client's Gauge is one)."""

    def inc(self, amount: float = 1) -> None: ...

    def dec(self, amount: float = 1) -> None: ...


@dataclass(frozen=True)
class Page:
    status: int
    text: str
    location: str


@dataclass
class Visit:
    """One customer's visit: their client and cookies, their dice, what happened so far."""

    client: Any
    rng: random.Random
    customer_id: int
    #: Open model: how late the arrival started; added to the first request's latency.
    lag_s: float = 0.0
    #: Called with the perf_counter time of the first response, when it comes.
    on_first_response: Callable[[float], None] | None = None
    first_response_at: float | None = None
    checkouts: list[str] = field(default_factory=list)
    #: Counts this visit's orders while they wait for their answer.
    checkouts_in_flight: Level | None = None

    def page(
        self,
        method: str,
        path: str,
        name: str,
        *,
        expect: int = 200,
        marker: str | None = None,
        data: dict[str, str] | None = None,
        checkout: bool = False,
    ) -> Page:
        """One request, validated; raises JourneyStop unless the page is as expected."""
        context: dict[str, Any] = {CONTEXT_KEY: flow_of(method, name)}
        if self.first_response_at is None:
            context["schedule_lag_s"] = self.lag_s
        sold_out = False
        waiting = self.checkouts_in_flight if checkout else None
        if waiting is not None:
            waiting.inc()
        try:  # the request is sent and answered (or given up) inside request()
            answered = self.client.request(
                method,
                path,
                name=name,
                data=data,
                catch_response=True,
                allow_redirects=False,
                context=context,
            )
        finally:
            if waiting is not None:
                waiting.dec()
        with answered as resp:
            if self.first_response_at is None:
                self.first_response_at = time.perf_counter()
                if self.on_first_response is not None:
                    self.on_first_response(self.first_response_at)
            status = int(resp.status_code or 0)
            text = (resp.text or "") if status else ""
            location = (resp.headers or {}).get("location", "") if status else ""
            problem: Exception | None = None
            if not status:
                problem = PageFailure(f"no response: {type(resp.error).__name__}")
            elif ERROR_PAGE_MARK in text:
                problem = ErrorPage(f"dog page ({status})")
            elif checkout and status == 409 and SOLD_OUT.search(text):
                sold_out = True
            elif status != expect:
                problem = PageFailure(f"status {status}, expected {expect}")
            elif marker is not None and marker not in text:
                problem = PageFailure(f"page without {marker!r}")
            if problem is None:
                resp.success()
            else:
                resp.failure(problem)
        if checkout:
            result = "sold_out" if sold_out else "ok"
            if problem is not None:
                result = "error_page" if isinstance(problem, ErrorPage) else "failure"
            self.checkouts.append(result)
        if problem is not None:
            kind = "error_page" if isinstance(problem, ErrorPage) else "failure"
            raise JourneyStop(kind, f"{method} {name}: {problem}")
        return Page(status, text, location)


def _path(location: str) -> str:
    """The path of a Location header, absolute or not."""
    if "://" in location:
        rest = location.split("://", 1)[1]
        location = rest[rest.index("/") :] if "/" in rest else "/"
    return location


def _follow(page: Page, expected: str) -> str:
    """The path a 303 points to, which must be `expected`."""
    path = _path(page.location)
    if path != expected:
        raise JourneyStop("failure", f"redirected to {path!r}, expected {expected!r}")
    return path
