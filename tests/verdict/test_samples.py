"""Reading scrapes back: series keys, absent series, a file cut short by a crash."""

from __future__ import annotations

import gzip
import math

from shopsim.verdict.samples import parse_key, read_samples

SCRAPE = """# shopsim-scrape {at}
# HELP shopsim_http_requests_total Requests.
# TYPE shopsim_http_requests_total counter
shopsim_http_requests_total{{route="/a",status="200"}} {a}
shopsim_http_requests_total{{route="/b \\"q\\"",status="500"}} 1.0
shopsim_http_requests_created{{route="/a",status="200"}} 1.7e9
{extra}"""


def _write(path, scrapes):
    with gzip.open(path, "wt") as handle:
        for body in scrapes:
            handle.write(body)


def test_scrapes_line_up_by_time_and_absent_series_are_nan(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    _write(
        samples / "cart.prom.gz",
        [
            SCRAPE.format(at=100.0, a=1.0, extra=""),
            SCRAPE.format(at=101.0, a=3.0, extra="shopsim_x 7\n"),
        ],
    )
    _write(samples / "load.prom.gz", [SCRAPE.format(at=101.0, a=5.0, extra="")])
    found = read_samples(samples)
    assert found.rounds == [100.0, 101.0]
    assert found.answered("load") == [False, True]
    values = {
        (src, labels["route"]): v for src, labels, v in found.series("shopsim_http_requests_total")
    }
    assert values[("cart", "/a")] == [1.0, 3.0]
    assert math.isnan(values[("load", "/a")][0]) and values[("load", "/a")][1] == 5.0
    assert values[("cart", '/b "q"')] == [1.0, 1.0]
    x = list(found.series("shopsim_x"))
    assert math.isnan(x[0][2][0]) and x[0][2][1] == 7.0
    assert list(found.series("shopsim_http_requests_created")) == []  # timestamps are dropped


def test_a_file_cut_short_keeps_its_whole_scrapes(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    body = gzip.compress(SCRAPE.format(at=100.0, a=1.0, extra="").encode())
    (samples / "cart.prom.gz").write_bytes(
        body + gzip.compress(b"# shopsim-scrape 101\nshopsim_y 1\n")[:-6]
    )
    found = read_samples(samples)
    assert found.rounds[0] == 100.0


def test_parse_key_unescapes_label_values():
    assert parse_key('m{a="x\\\\y",b="1"}') == ("m", frozenset({("a", "x\\y"), ("b", "1")}))
    assert parse_key("m") == ("m", frozenset())
