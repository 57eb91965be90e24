"""The closed model: users who each run one journey, wait, and run another.

Each user is a FastHttpUser (about four times cheaper per request than HttpUser) with its own
cookies, a customer of its own (user number modulo the plan's customers, plus one) and a
`random.Random` seeded with the plan's seed and its user number. Weights give a sale-day funnel
by default: most browse, fewer buy, a few buy gifts; the plan's mix replaces them.

``constant_pacing(1)``: a user starts a journey at most once a second, so N users offer about
N journeys per second while the store is quick. When it slows down they offer less, because
each waits for its answers: that is the closed model's coordinated omission, which the open
model (openmodel.py) does not have.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Mapping
from typing import ClassVar

from locust import constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopTest
from locust.user.users import LOCUST_STATE_STOPPING

from .exporter import metrics_of
from .journeys import run_journey
from .plan import PlanError, check_loopback, read_plan
from .share import wait_for_share
from .visit import Visit

log = logging.getLogger("shopsim.loadtests")


def user_seed(seed: int, number: int) -> int:
    """The seed of user (or arrival) `number`'s dice under the plan's `seed`."""
    return seed * 1_000_003 + number


class JourneyUser(FastHttpUser):
    """A customer who repeats one journey."""

    abstract = True
    journey: ClassVar[str]
    wait_time = constant_pacing(1.0)
    network_timeout = 30.0
    connection_timeout = 5.0

    def on_start(self) -> None:
        try:
            check_loopback(self.host)
        except PlanError as err:  # the web UI can change the host after start-up checks
            log.error("%s", err)
            raise StopTest(str(err)) from None
        plan = read_plan(os.environ)
        self.number: int | None = None
        share = wait_for_share(self.environment, lambda: self._state == LOCUST_STATE_STOPPING)
        if share is None:
            return  # no share for this process: the user stays idle
        self.number = share.next_user_number()
        self.rng = random.Random(user_seed(plan.seed, self.number))
        self.customer_id = self.number % plan.customers + 1

    @task
    def one_journey(self) -> None:
        """Run the journey once as this user's customer."""
        if self.number is None:
            return
        metrics = metrics_of(self.environment)
        waiting = None if metrics is None else metrics.checkouts_in_flight
        visit = Visit(self.client, self.rng, self.customer_id, checkouts_in_flight=waiting)
        fire = self.environment.events.request.fire
        run_journey(self.journey, visit, fire, time.perf_counter())


class BrowserUser(JourneyUser):
    """Looks around: home, searches, products."""

    journey = "browser"
    weight = 70


class ShopperUser(JourneyUser):
    """Signs in, puts a product (a doorbuster for some) in the cart and checks out."""

    journey = "shopper"
    weight = 25


class GiftBuyerUser(JourneyUser):
    """Signs in, finds a gift registry, buys a wished item."""

    journey = "gift_buyer"
    weight = 5


CLOSED_USERS: tuple[type[JourneyUser], ...] = (BrowserUser, ShopperUser, GiftBuyerUser)


def closed_user_classes(mix: Mapping[str, float]) -> list[type[JourneyUser]]:
    """The user classes with a share of `mix`, their weights set from it (integers, per mille)."""
    total = sum(mix.values())
    chosen = []
    for cls in CLOSED_USERS:
        share = mix.get(cls.journey, 0) / total if total else 0
        if share > 0:
            cls.weight = max(1, round(1000 * share))
            chosen.append(cls)
    return chosen
