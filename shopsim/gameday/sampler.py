"""Sampling the run: every service's /metrics and the load process's, once a second.

The load generator serves its metrics from each of its processes: ``load`` (the master, or the
only process) on a free port chosen here, and with N workers ``load-1``..``load-N`` on the N
ports after it (loadtests/exporter.py).

Each scrape is kept whole (gzip, one file per source, each scrape headed by
``# shopsim-scrape <unix time>``) so nothing measured is lost, and also parsed into a flat
snapshot from which the live view and the stop conditions read their few numbers.
"""

from __future__ import annotations

import gzip
import os
import random
import socket
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

LabelSet = frozenset[tuple[str, str]]
Key = tuple[str, LabelSet]


@dataclass
class Snapshot:
    """Every sample of every source at one moment: (name, labels) -> value, summed over sources
    for the load process's workers and kept per source otherwise."""

    at: float
    values: dict[str, dict[Key, float]] = field(default_factory=dict)  # source -> samples
    failed: list[str] = field(default_factory=list)  # sources that did not answer

    def total(self, name: str, sources: Iterable[str] | None = None, **match: str) -> float:
        """Sum of samples named `name` whose labels include `match`, over `sources` (or all)."""
        out = 0.0
        wanted = set(match.items())
        for source, samples in self.values.items():
            if sources is not None and source not in sources:
                continue
            for (sample, labels), value in samples.items():
                if sample == name and wanted <= labels:
                    out += value
        return out

    def series(self, name: str, sources: Iterable[str] | None = None) -> dict[LabelSet, float]:
        """Every label set of `name` (summed across sources) -> value."""
        out: dict[LabelSet, float] = {}
        for source, samples in self.values.items():
            if sources is not None and source not in sources:
                continue
            for (sample, labels), value in samples.items():
                if sample == name:
                    out[labels] = out.get(labels, 0.0) + value
        return out


def parse(text: str) -> dict[Key, float]:
    """Prometheus text exposition -> flat samples."""
    out: dict[Key, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = float(sample.value)
    return out


class Sampler:
    """Scrapes a fixed set of sources into gzip files and snapshots."""

    def __init__(self, sources: Mapping[str, str], out_dir: Path, timeout_s: float = 0.8) -> None:
        self.sources = dict(sources)  # name -> metrics URL
        self.out_dir = out_dir
        self._http = httpx.Client(timeout=timeout_s)
        self._files: dict[str, gzip.GzipFile] = {}
        self._pool = ThreadPoolExecutor(max_workers=len(self.sources), thread_name_prefix="scrape")
        out_dir.mkdir(parents=True, exist_ok=True)

    def scrape(self) -> Snapshot:
        """One round over every source, fetched in parallel so a slow one delays no other."""
        snap = Snapshot(at=time.time())
        responses = dict(
            zip(self.sources, self._pool.map(self._fetch, self.sources.values()), strict=True)
        )
        for name, response in responses.items():
            if response is None:
                snap.failed.append(name)
                continue
            self._file(name).write(f"# shopsim-scrape {snap.at:.3f}\n".encode() + response.content)
            try:
                snap.values[name] = parse(response.text)
            except ValueError:
                snap.failed.append(name)
        return snap

    def _fetch(self, url: str) -> httpx.Response | None:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            return response
        except httpx.HTTPError:
            return None

    def _file(self, name: str) -> gzip.GzipFile:
        if name not in self._files:
            path = self.out_dir / f"{name}.prom.gz"
            self._files[name] = gzip.open(path, "ab")  # noqa: SIM115 - open for the run
        return self._files[name]

    def close(self) -> None:
        """Flush and close the sample files."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()
        self._pool.shutdown(wait=True)
        self._http.close()


PORT_RANGE_ENV = "SHOPSIM_FREE_PORTS"
PORT_RANGE = (10_000, 32_768)


def port_range(environ: Mapping[str, str]) -> tuple[int, int]:
    """Where free ports are looked for: SHOPSIM_FREE_PORTS=LO-HI (LO included, HI not), so
    that programs choosing ports side by side (CI jobs, test workers) never choose the same;
    by default 10000-32768, below the kernel's ephemeral range, so that no client socket takes
    a chosen port between this check and the process binding it."""
    text = environ.get(PORT_RANGE_ENV)
    if not text:
        return PORT_RANGE
    lo, sep, hi = text.partition("-")
    if not (sep and lo.strip().isdigit() and hi.strip().isdigit()):
        raise ValueError(f"{PORT_RANGE_ENV}={text!r}: expected LO-HI, e.g. 20000-26000")
    low, high = int(lo), int(hi)
    if not 1024 <= low < high <= 65_536:
        raise ValueError(f"{PORT_RANGE_ENV}={text!r}: expected 1024 <= LO < HI <= 65536")
    return low, high


def free_ports(
    count: int, offsets: tuple[int, ...] = (0,), environ: Mapping[str, str] | None = None
) -> int:
    """The first of `count` consecutive free loopback ports, chosen at run time in
    `port_range`; with `offsets`, every port + each offset is free too (a store's service ports
    and side ports)."""
    low, high = port_range(os.environ if environ is None else environ)
    top = high - count - max(offsets)
    if top <= low:
        raise RuntimeError(f"{PORT_RANGE_ENV}: {low}-{high} is too narrow for {count} ports")
    rng = random.Random()
    for _ in range(100):
        base = rng.randrange(low, top)
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                for offset in offsets:
                    sock = socket.socket()
                    socks.append(sock)
                    sock.bind(("127.0.0.1", port + offset))
            return base
        except OSError:
            continue  # one of the next ports is taken: look elsewhere
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


def load_sources(metrics_port: int, processes: int) -> dict[str, str]:
    """The load generator's metrics: load (master or standalone) on metrics_port, and with
    workers load-1..load-N on the ports after it (exporter.py: worker k serves port + 1 + k)."""
    sources = {"load": f"http://127.0.0.1:{metrics_port}/metrics"}
    for k in range(1, processes + 1 if processes > 1 else 1):
        sources[f"load-{k}"] = f"http://127.0.0.1:{metrics_port + k}/metrics"
    return sources
