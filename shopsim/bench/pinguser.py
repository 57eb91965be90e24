"""The locustfile of the load-generator figure: shopsim's Locust user, one fixed GET, no pause.

Same client as the journeys' users (`FastHttpUser`, the same timeouts) so the figure is what
shopsim's load process can send, not what a journey asks for. Run by loadgen.py only, as
``locust -f shopsim/bench/pinguser.py --host URL`` on loopback.
"""

from __future__ import annotations

import os

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from shopsim.bench.loadgen import PATH_ENV


class PingUser(FastHttpUser):
    """Requests one path as fast as its answers come."""

    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 5.0

    @task
    def ping(self) -> None:
        """One request to the fixed endpoint."""
        self.client.get(os.environ.get(PATH_ENV, "/ping"), name="fixed")
