"""The numbers a game day watches, from hand-made snapshots."""

from __future__ import annotations

import math

import pytest

from shopsim.gameday.derive import Deriver, quantile
from shopsim.gameday.sampler import Snapshot, parse


def snap(at: float, **sources: str) -> Snapshot:
    return Snapshot(at=at, values={name: parse(text) for name, text in sources.items()})


def load_text(arrivals: float, ok: float, failed: float, sold_out: float = 0.0) -> str:
    return (
        "# TYPE shopsim_load_arrivals_total counter\n"
        f"shopsim_load_arrivals_total {arrivals}\n"
        "# TYPE shopsim_load_checkouts_total counter\n"
        f'shopsim_load_checkouts_total{{result="ok"}} {ok}\n'
        f'shopsim_load_checkouts_total{{result="sold_out"}} {sold_out}\n'
        f'shopsim_load_checkouts_total{{result="failure"}} {failed}\n'
        f'shopsim_load_checkouts_total{{result="error_page"}} 0\n'
    )


def test_rates_and_ratios_come_from_increases():
    d = Deriver()
    d.push(snap(0.0, load=load_text(100, 10, 0)))
    values = d.push(snap(1.0, load=load_text(130, 16, 2, sold_out=2)))
    assert values["arrivals_per_s"] == pytest.approx(30.0)
    assert values["checkout_error_ratio"] == pytest.approx(2 / 10)  # sold out is not a failure


def test_a_source_missing_from_one_scrape_is_not_a_spike():
    d = Deriver()
    d.push(snap(0.0, load=load_text(1000, 10, 0)))
    values = d.push(snap(1.0))  # the load process did not answer this second
    assert values["arrivals_per_s"] is None  # unknown, not zero
    values = d.push(snap(2.0, load=load_text(1030, 10, 0)))
    assert values["arrivals_per_s"] is None  # not 1030 arrivals in one second


def test_quantile_interpolates_like_prometheus():
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.95, buckets) == pytest.approx(0.75)
    assert quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None


def test_load_numbers_add_up_every_load_process():
    def worker(arrivals: float, ok: float, failed: float, waiting: float) -> str:
        gauge = "# TYPE shopsim_load_checkouts_in_flight gauge\n"
        return (
            load_text(arrivals, ok, failed)
            + gauge
            + f"shopsim_load_checkouts_in_flight {waiting}\n"
        )

    d = Deriver()
    d.push(
        snap(
            0.0,
            load=worker(0, 0, 0, 0),
            **{"load-1": worker(50, 4, 0, 1), "load-2": worker(49, 4, 0, 2)},
        )
    )
    values = d.push(
        snap(
            1.0,
            load=worker(0, 0, 0, 0),
            **{"load-1": worker(56, 7, 1, 3), "load-2": worker(55, 6, 0, 4)},
        )
    )
    assert values["arrivals_per_s"] == pytest.approx(12.0)  # 6 + 6: the master makes none
    assert values["checkouts_per_s"] == pytest.approx(6.0)  # 3 + 1 + 2 answered
    assert values["checkout_error_ratio"] == pytest.approx(1 / 6)
    assert values["checkouts_in_flight"] == 7.0


def test_checkouts_answered_count_over_the_window():
    d = Deriver()
    for t in range(9):  # 2 checkouts answered a second for 3 s, then none for 5 s
        done = 2 * min(t, 3)
        values = d.push(snap(float(t), load=load_text(10 * t, done, 0)))
        if t == 3:
            assert values["checkouts_per_s"] == pytest.approx(6 / 3)  # 3 s of history so far
    assert values["checkouts_per_s"] == 0.0  # the last 5 s: known to be none, not unknown
    assert values["checkout_error_ratio"] is None
    assert values["checkouts_in_flight"] == 0.0  # the gauge is absent: nothing in flight


def test_a_load_process_counts_from_zero_when_first_scraped():
    pages = "# TYPE shopsim_error_pages_total counter\nshopsim_error_pages_total 40\n"
    d = Deriver(started_at=0.0)
    values = d.push(snap(1.0, load=load_text(11, 0, 0), storefront=pages))
    assert values["arrivals_per_s"] == pytest.approx(11.0)  # made before the first scrape
    assert values["error_pages_per_s"] is None  # the store ran before: its counter is no news
    # A worker first answering a second later also started from zero.
    values = d.push(snap(2.0, load=load_text(20, 0, 0), **{"load-1": load_text(8, 0, 0)}))
    assert values["arrivals_per_s"] == pytest.approx(9.0 + 8.0)


def histogram(get_fast: int, post_slow: int) -> str:
    """GET /checkout (the page) answered under 0.1 s, POST /checkout (the order) in 2.5-5 s."""
    lines = ["# TYPE shopsim_load_request_duration_seconds histogram"]
    for le in ("0.1", "2.5", "5.0", "+Inf"):
        get = get_fast
        post = 0 if le in ("0.1", "2.5") else post_slow
        bucket = "shopsim_load_request_duration_seconds_bucket"
        page = 'flow="checkout",method="GET",name="/checkout"'
        order = 'flow="checkout",method="POST",name="/checkout"'
        lines.append(f'{bucket}{{le="{le}",{page}}} {get}')
        lines.append(f'{bucket}{{le="{le}",{order}}} {post}')
    return "\n".join(lines) + "\n"


def test_checkout_p95_is_the_orders_not_the_checkout_page():
    d = Deriver()
    d.push(snap(0.0, load=histogram(0, 0)))
    values = d.push(snap(1.0, load=histogram(100, 10)))
    assert values["checkout_p95_seconds"] == pytest.approx(2.5 + 2.5 * 0.95)
    values = d.push(snap(2.0, load=histogram(200, 10)))  # orders stopped: pages still load
    assert values["checkout_p95_seconds"] == pytest.approx(2.5 + 2.5 * 0.95)  # the window's
    for t in range(3, 8):
        values = d.push(snap(float(t), load=histogram(100 * t, 10)))
    assert values["checkout_p95_seconds"] is None  # no order answered in the window


def requests_text(rows: list[tuple[str, str, str, str, float]]) -> str:
    """shopsim_load_requests_total rows: (name, method, flow, result, value)."""
    lines = ["# TYPE shopsim_load_requests_total counter"]
    for name, method, flow, result, value in rows:
        labels = f'flow="{flow}",method="{method}",name="{name}",result="{result}"'
        lines.append(f"shopsim_load_requests_total{{{labels}}} {value}")
    return "\n".join(lines) + "\n"


def test_the_flow_label_decides_what_is_checkout_not_the_url():
    # A browse page whose URL mentions gifts, and an order under a name that does not.
    def rows(n: float) -> list[tuple[str, str, str, str, float]]:
        return [
            ("/gift-ideas", "GET", "browse", "ok", 3 * n),
            ("/gift-ideas", "GET", "browse", "failure", n),
            ("/cart", "GET", "cart", "ok", 4 * n),
            ("/place", "POST", "checkout", "failure", 10 * n),
        ]

    d = Deriver()
    d.push(snap(0.0, load=requests_text(rows(0))))
    values = d.push(snap(1.0, load=requests_text(rows(1))))
    assert values["browse_error_ratio"] == pytest.approx(1 / 8)  # browse and cart, not orders

    lines = ["# TYPE shopsim_load_request_duration_seconds histogram"]
    for le, count in (("0.1", 0), ("2.5", 20), ("+Inf", 20)):
        bucket = "shopsim_load_request_duration_seconds_bucket"
        lines.append(f'{bucket}{{flow="gift",le="{le}",method="POST",name="/place"}} {count}')
        lines.append(f'{bucket}{{flow="browse",le="{le}",method="POST",name="/checkout"}} 50')
    d = Deriver()
    d.push(snap(0.0, load=""))
    values = d.push(snap(1.0, load="\n".join(lines) + "\n"))
    assert values["checkout_p95_seconds"] == pytest.approx(0.1 + 2.4 * 0.95)  # the gift order's
