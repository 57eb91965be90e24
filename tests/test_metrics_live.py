"""Real processes against the metric catalogue: every service of a running store and a running
load process, after some traffic, export exactly what the catalogue declares for them (type,
labels, fixed label values), and the load's requests carry their flow."""

from __future__ import annotations

import httpx
import pytest

from shopsim.metrics.catalogue.load import LOAD_REQUESTS
from shopsim.metrics.catalogue.values import FLOWS, LOAD
from shopsim.settings import SERVICE_NAMES
from tests.catalogue_check import parsed, problems
from tests.test_integration import buy_through_api
from tests.test_loadtests import LocustRun

pytestmark = [pytest.mark.processes, pytest.mark.load]


def test_a_running_store_and_load_export_exactly_the_catalogue(
    live_settings, start_stack, tmp_path
):
    start_stack(live_settings)
    buy_through_api(live_settings)
    plan = {
        "model": "open",
        "stages": [{"duration_s": 4, "target": 8}],
        "mix": {"browser": 30, "shopper": 40, "gift_buyer": 30},
        "seed": 11,
    }
    run = LocustRun(tmp_path, live_settings.url("storefront"), plan, "--stop-timeout", "10")
    run.wait(timeout_s=60)

    found: list[str] = []
    with httpx.Client(timeout=10.0) as client:
        for name in SERVICE_NAMES:
            text = client.get(live_settings.metrics_url(name)).text
            found += problems(name, parsed(text))
    load = parsed(run.scrapes[-1])
    found += problems(LOAD, load)
    assert found == []

    sent = {flow: 0.0 for flow in FLOWS}
    orders = 0.0
    requests = next(f for f in load if f.name == LOAD_REQUESTS.family)
    for sample in requests.samples:
        sent[sample.labels["flow"]] += sample.value
        if sample.labels["method"] == "POST" and sample.labels["flow"] in ("checkout", "gift"):
            orders += sample.value
    assert all(sent[flow] > 0 for flow in FLOWS), sent
    assert orders > 0
