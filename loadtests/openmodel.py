"""The open model: customers arrive on a schedule, however slowly the store answers.

Locust's users are a closed model: each waits for its answers, so a slow store receives less
load and its queues stay hidden (coordinated omission). Here one `OpenModelUser` per load
process runs a scheduler instead:

- Arrival n is due when the integral of the rate reaches n (schedule.py): every 1/r seconds at
  a constant rate r, closer together along a rising ramp. The clock starts when the shape
  starts, on every process alike; process k of N takes arrivals k, k+N, ... (share.py). A
  worker schedules nothing before it knows its share; arrivals due while it waits start late.
- The scheduler sleeps until an arrival is due and never waits for a response: each arrival
  runs one journey in its own greenlet from a pool of max_in_flight / N. An arrival that finds
  the pool full is dropped and counted; one started more than 50 ms after it was due is
  counted late (it still runs). When the run stops, every arrival already due is still made
  and the later ones are not, so a busy process that notices the end late loses nothing.
- The first request's latency and the whole journey are timed from the intended start, as wrk2
  and k6 do, so a backlog in the load process or the store shows up as latency.

Locust's stats get the same figures: ARRIVAL "start lag" (every arrival; dropped ones are its
failures), ARRIVAL "first response from intended start", and JOURNEY rows per journey.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time

import gevent
from gevent.pool import Pool
from geventhttpclient.client import HTTPClientPool
from locust import User, constant, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopTest
from locust.user.users import LOCUST_STATE_STOPPING

from .exporter import metrics_of
from .journeys import ARRIVAL_TYPE, JOURNEYS, run_journey
from .plan import Plan, PlanError, check_loopback, read_plan
from .schedule import arrival_times
from .share import Share, wait_for_share
from .users import user_seed
from .visit import Visit

log = logging.getLogger("shopsim.loadtests")

LATE_S = 0.05
STOP_CHECK_S = 0.25  # how often a long wait between arrivals looks whether the run is stopping
NETWORK_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5.0


class ArrivalDropped(Exception):
    """An arrival found max_in_flight journeys running and was not started."""


class Scheduler:
    """This process's arrivals: their schedule, their greenlets, their connections."""

    def __init__(self, user: User, plan: Plan, share: Share) -> None:
        self.user = user
        self.environment = user.environment
        self.host = user.host
        self.plan = plan
        self.share = share
        self.metrics = metrics_of(self.environment)
        self.fire = self.environment.events.request.fire
        self.cap = max(1, math.ceil(plan.max_in_flight / share.count))
        self.pool = Pool(self.cap)
        self.connections = HTTPClientPool(
            concurrency=self.cap,
            network_timeout=NETWORK_TIMEOUT_S,
            connection_timeout=CONNECT_TIMEOUT_S,
        )
        self.journeys = list(JOURNEYS)
        self.weights = [plan.mix.get(j, 0) for j in self.journeys]

    def run(self) -> None:
        """Start every arrival of this process's share on time, then wait for the last ones."""
        shape = self.environment.shape_class
        stages = shape.stage_table() if hasattr(shape, "stage_table") else ()
        if not stages:
            log.error("the open model needs a shape with stages (SHOPSIM_LOAD_PLAN)")
            return
        epoch = self.share.started_perf()
        first, step = self.share.index, self.share.count
        for n, offset in arrival_times(stages, first=first, step=step):
            due = epoch + offset
            if not self._sleep_until(due):
                break  # the run is stopping: no more arrivals, let the running ones finish
            lag = max(time.perf_counter() - due, 0.0)
            dropped = self.pool.full()
            if self.metrics is not None:
                self.metrics.arrival(late=lag > LATE_S, dropped=dropped)
            self.fire(
                request_type=ARRIVAL_TYPE,
                name="start lag",
                response_time=lag * 1000,
                response_length=0,
                exception=ArrivalDropped("max_in_flight reached") if dropped else None,
                context={},
            )
            if not dropped:
                self.pool.spawn(self.arrive, n, due, lag)
        self.pool.join()

    def _sleep_until(self, due: float) -> bool:
        """Sleep until `due` (perf_counter); False if the run stops before it comes."""
        while True:
            wait = due - time.perf_counter()
            if wait <= 0:
                return True  # due before the stop was seen: its time came, it is made
            if self.user._state == LOCUST_STATE_STOPPING:
                return False
            gevent.sleep(min(wait, STOP_CHECK_S))

    def arrive(self, n: int, due: float, lag: float) -> None:
        """One customer: a journey picked with the arrival's own dice, timed from `due`."""
        rng = random.Random(user_seed(self.plan.seed, n))
        journey = rng.choices(self.journeys, weights=self.weights)[0]
        session = FastHttpSession(
            self.host,
            self.environment.events.request,
            None,
            client_pool=self.connections,
            max_retries=0,
        )

        def first_response(at: float) -> None:
            self.fire(
                request_type=ARRIVAL_TYPE,
                name="first response from intended start",
                response_time=(at - due) * 1000,
                response_length=0,
                exception=None,
                context={},
            )

        customer = n % self.plan.customers + 1
        visit = Visit(
            session,
            rng,
            customer,
            lag_s=lag,
            on_first_response=first_response,
            checkouts_in_flight=None if self.metrics is None else self.metrics.checkouts_in_flight,
        )
        if self.metrics is not None:
            self.metrics.in_flight.inc()
        try:
            run_journey(journey, visit, self.fire, due)
        finally:
            if self.metrics is not None:
                self.metrics.in_flight.dec()

    def stop(self) -> None:
        """Stop the journeys still running and close the connections."""
        running = len(self.pool)
        if running:
            log.info("stopping %d open-model journeys still in flight", running)
        self.pool.kill(block=False)
        self.connections.close()


class OpenModelUser(User):
    """Runs this process's arrival scheduler; the shape asks for one per load process."""

    wait_time = constant(1.0)  # after the schedule: idle until the run stops

    def on_start(self) -> None:
        try:
            check_loopback(self.host)
        except PlanError as err:
            log.error("%s", err)
            raise StopTest(str(err)) from None
        self.scheduler: Scheduler | None = None
        self.scheduled = False

    @task
    def schedule(self) -> None:
        """Run the whole schedule once (Locust's --stop-timeout lets its last journeys finish)."""
        if self.scheduled:
            return
        self.scheduled = True
        share = wait_for_share(self.environment, lambda: self._state == LOCUST_STATE_STOPPING)
        if share is None:
            return  # no share for this process, or the run stopped while it waited
        self.scheduler = Scheduler(self, read_plan(os.environ), share)
        self.scheduler.run()

    def on_stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
