"""The metric catalogue: names by Prometheus conventions, METRICS.md current, every series an
in-process store exports declared (the same check runs on real processes in
test_metrics_live.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter

from shopsim.metrics import doc
from shopsim.metrics.catalogue import BY_NAME, CATALOGUE
from shopsim.metrics.catalogue.business import CART_CHANGES, PAYMENT_OPERATIONS_DONE
from shopsim.metrics.catalogue.values import (
    CART_OPERATIONS,
    FLOWS,
    LABELS,
    LATENCY_BUCKETS,
    LOAD,
    PAYMENT_OPERATIONS,
    PAYMENT_OUTCOMES,
    SERVICES,
)
from shopsim.metrics.definition import make
from shopsim.settings import SERVICE_NAMES
from tests.catalogue_check import problems
from tests.faults.conftest import add_fault, buy, reset_faults

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loadtests.flows import REQUEST_FLOWS, flow_of  # noqa: E402

IDS = ("customer_id", "order_id", "cart_id", "registry_id", "reservation_id", "id")


def test_names_follow_prometheus_conventions():
    assert len(BY_NAME) == len(CATALOGUE)  # no name twice
    for m in CATALOGUE:
        prefix = "process_" if m.collector else "shopsim_"
        assert m.name.startswith(prefix), m.name
        assert m.name.endswith("_total") == (m.type == "counter"), m.name
        if m.unit:
            assert m.name.removesuffix("_total").endswith("_" + m.unit), m.name
        assert (m.type == "histogram") == bool(m.buckets), m.name
        assert not set(m.labels) & set(IDS), m.name
        assert set(m.labels) <= set(LABELS), m.name  # every label explained in METRICS.md
        assert set(m.values) <= set(m.labels), m.name
        assert set(m.sources) <= {*SERVICE_NAMES, LOAD}, m.name
        assert m.help.endswith("."), m.name


def test_latency_histograms_have_a_bucket_on_every_slo_threshold():
    assert {0.25, 1.0, 2.5} <= set(LATENCY_BUCKETS)


def test_make_creates_every_combination_of_fixed_values_at_zero():
    registry = CollectorRegistry()
    counter = make(CART_CHANGES, registry)
    assert isinstance(counter, Counter)
    for operation in CART_OPERATIONS:
        assert registry.get_sample_value(CART_CHANGES.name, {"operation": operation}) == 0.0
    make(PAYMENT_OPERATIONS_DONE, registry)
    combinations = [s for f in registry.collect() for s in f.samples if s.name.endswith("_total")]
    assert len(combinations) == len(CART_OPERATIONS) + len(PAYMENT_OPERATIONS) * len(
        PAYMENT_OUTCOMES
    )


def test_make_refuses_a_collectors_metric():
    process = next(m for m in CATALOGUE if m.collector)
    with pytest.raises(ValueError, match="ProcessCollector"):
        make(process, CollectorRegistry())


def test_metrics_md_is_current():
    assert doc.PATH.read_text() == doc.render(), "run: python -m shopsim.metrics.doc"
    for m in CATALOGUE:
        assert f"`{m.name}`" in doc.PATH.read_text()


def test_doc_check_fails_when_stale(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "METRICS.md"
    stale.write_text(doc.render().replace("shopsim_http_requests_total", "shopsim_http_hits"))
    monkeypatch.setattr(doc, "PATH", stale)
    assert doc.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert doc.main([]) == 0
    assert doc.main(["--check"]) == 0


def test_the_catalogue_imports_no_flask():
    # The load generator (Locust, gevent) imports it: prometheus_client and settings only.
    code = (
        "import sys, shopsim.metrics, shopsim.metrics.catalogue, loadtests.flows; "
        "sys.exit(any(m in sys.modules for m in ('flask', 'sqlalchemy', 'httpx')))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_every_request_of_the_journeys_has_a_flow():
    assert set(REQUEST_FLOWS.values()) == set(FLOWS)
    assert flow_of("POST", "/checkout") == "checkout"
    assert flow_of("POST", "/registries/[id]/gift") == "gift"
    with pytest.raises(KeyError, match="loadtests/flows.py"):
        flow_of("GET", "/wishlist")
    # journeys.py names no request the table lacks
    source = (ROOT / "loadtests" / "journeys.py").read_text()
    for _, name in REQUEST_FLOWS:
        assert f'"{name}"' in source, name


def test_an_in_process_store_exports_exactly_the_catalogue(store):
    api = store.client("storefront")
    added = api.post("/api/customers/3/cart/items", json={"sku": "SKU-0002", "quantity": 1})
    assert added.status_code == 200
    body = {"idempotency_key": "catalogue-1", "card_token": "tok_visa"}
    assert api.post("/api/customers/3/checkout", json=body).status_code == 201
    assert buy(store, "catalogue-2").status_code == 201
    assert store.client("storefront").get("/").status_code == 200
    leak = {"type": "memory_leak", "target": "cart", "probability": 1.0, "duration_s": 60}
    add_fault(store, leak | {"params": {"mb_per_s": 1, "max_mb": 1}})
    try:
        found = []
        for service in SERVICES:
            families = list(store.ctx(service).metrics.registry.collect())
            found += problems(service, families)
        assert found == []
        cart = {f.name for f in store.ctx("cart").metrics.registry.collect()}
        assert "shopsim_fault_memory_held_bytes" in cart  # appears once a leak has run
    finally:
        reset_faults(store)
