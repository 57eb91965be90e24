"""Pure pieces: Prometheus alert samples into firings, their comparison with the verdict's, the
OpenMetrics text of a run's samples, and the scrape configuration."""

from __future__ import annotations

from array import array

from shopsim.prom.export import openmetrics_lines
from shopsim.prom.firings import compare, spans
from shopsim.prom.promql import duration
from shopsim.prom.scrape import scrape_config
from shopsim.settings import SERVICE_NAMES, Settings
from shopsim.verdict.samples import Source


def test_spans_split_on_gaps_and_leave_the_last_open_when_it_reaches_the_end():
    times = [10.0, 11.0, 12.0, 20.0, 21.0]
    assert spans(times, end=21.5) == [(10.0, 13.0), (20.0, None)]
    assert spans(times, end=40.0) == [(10.0, 13.0), (20.0, 22.0)]
    assert spans([], end=5.0) == []


def _prom(*firings: tuple[str, float, str | None]) -> dict:
    return {
        "scrape_interval_s": 1.0,
        "alerts": [
            {"name": n, "state": "firing", "labels": {"alertname": n} | ({"slo": s} if s else {}),
             "fired_at_s": t, "cleared_at_s": None}
            for n, t, s in firings
        ],
    }  # fmt: skip


def test_compare_pairs_by_name_and_slo_and_measures_the_difference():
    verdict = [
        {
            "name": "checkout_availability_fast_burn",
            "slo": "checkout_availability",
            "fired_at_s": 10.0,
        },
        {"name": "stock_oversold", "slo": None, "fired_at_s": 30.0},
    ]
    prom = _prom(
        ("checkout_availability_fast_burn", 11.5, "checkout_availability"),
        ("stock_oversold", 29.0, None),
        ("service_down", 40.0, None),
    )
    got = compare(verdict, prom)
    assert [p["difference_s"] for p in got["pairs"]] == [1.5, -1.0]
    assert got["pairs"][0]["prometheus_cleared_at_s"] is None
    assert got["max_difference_s"] == 1.5 and got["agree"] is True
    assert [a["name"] for a in got["prometheus_health_alerts"]] == ["service_down"]


def test_compare_disagrees_when_late_missing_or_extra():
    verdict = [{"name": "stock_oversold", "slo": None, "fired_at_s": 30.0}]
    assert compare(verdict, _prom(("stock_oversold", 33.0, None)))["agree"] is False
    assert compare(verdict, _prom())["agree"] is False
    extra = _prom(("stock_oversold", 30.0, None), ("stock_oversold", 90.0, None))
    assert compare(verdict, extra)["only_prometheus"][0]["fired_at_s"] == 90.0
    assert compare(verdict, extra)["agree"] is False


def test_openmetrics_groups_families_adds_scrape_labels_and_up_and_ends_with_eof():
    src = Source("load")
    for key in ('x_total{result="ok"}', "y"):
        src.column(key)
    src.times = [100.0, 101.0]
    src.rows = [array("d", [1.0, 5.0]), array("d", [2.0, float("nan")])]
    svc = Source("cart")
    svc.column("y")
    svc.times = [100.0]
    svc.rows = [array("d", [7.0])]
    text = "".join(openmetrics_lines([src, svc]))
    lines = text.splitlines()
    assert lines[-1] == "# EOF"
    assert (
        'x_total{result="ok",job="shopsim-load",source="load",instance="load"} 2.0 101.000' in lines
    )
    assert 'y{job="shopsim",source="cart",instance="cart"} 7.0 100.000' in lines
    assert sum(1 for line in lines if line.startswith("y{")) == 2  # the NaN is left out
    assert [line for line in lines if line.startswith("# TYPE")] == [
        "# TYPE up unknown", "# TYPE x_total unknown", "# TYPE y unknown",
    ]  # fmt: skip
    assert sum(1 for line in lines if line.startswith("up{")) == 3


def test_scrape_config_scrapes_every_service_side_port_and_the_load_every_second():
    settings = Settings(port_base=12000)
    config = scrape_config(settings, {"load": "http://127.0.0.1:9646/metrics"})
    assert config["global"]["scrape_interval"] == "1s"
    jobs = {j["job_name"]: j["static_configs"] for j in config["scrape_configs"]}
    services = {c["labels"]["source"]: c["targets"][0] for c in jobs["shopsim"]}
    assert set(services) == set(SERVICE_NAMES)
    assert services["cart"] == f"127.0.0.1:{settings.operator_port('cart')}"
    assert jobs["shopsim-load"] == [{"targets": ["127.0.0.1:9646"], "labels": {"source": "load"}}]


def test_durations_are_prometheus_durations():
    assert [duration(s) for s in (3600, 300, 4, 4.5, 259200, 4320)] == [
        "1h", "5m", "4s", "4500ms", "3d", "72m",
    ]  # fmt: skip
