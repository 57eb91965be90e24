"""Fixtures shared by the suite.

`settings` points every service at SQLite files in a fresh temporary run directory.
`store` builds all eight services in-process, wired to each other through
`httpx.WSGITransport` (no sockets), seeded from seed 1: a unit test calls any service with
`store.client("checkout")` and every dependency call stays inside the test process.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from shopsim.app import close_app, create_app
from shopsim.client import Dependency
from shopsim.gameday.sampler import PORT_RANGE, PORT_RANGE_ENV, free_ports
from shopsim.runner import Stack, port_in_use
from shopsim.seed import SeedData, apply, generate
from shopsim.settings import DEPENDENCIES, OPERATOR_PORT_OFFSET, SERVICE_NAMES, Settings
from shopsim.verdict import exitcodes

T = TypeVar("T")

# The exit codes of a game day that ran to its end and judged the store. A test of the harness
# (the run directory, the load processes, the data) accepts any of them: on a busy machine the
# store may really breach an SLO, and that verdict is not what such a test checks.
JUDGED = frozenset(
    {exitcodes.OK, exitcodes.EXPECTATION, exitcodes.SLO, exitcodes.INTEGRITY, exitcodes.INVALID}
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an in-process store: SQLite in tmp_path, no background threads, fast payment."""
    return Settings(
        run_dir=str(tmp_path / "run"),
        background=False,
        payment_latency_ms=0.0,
        payment_jitter_ms=0.0,
    )


class Apps(Mapping[str, Flask]):
    """The store's apps, each built the first time something asks for it.

    Building all eight costs about 0.2 s (mostly route compilation), and most tests touch two or
    three services. Iterating visits every service, so code that walks the store sees them all.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._built: dict[str, Flask] = {}
        # Tests that race requests from threads may ask for an unbuilt app from two threads at
        # once; building two apps at the same time once broke CPython 3.11's AST compiler
        # ("AST constructor recursion depth mismatch") inside werkzeug's rule compilation.
        self._building = threading.RLock()

    def __getitem__(self, name: str) -> Flask:
        if name not in SERVICE_NAMES:
            raise KeyError(name)
        with self._building:
            if name not in self._built:
                transports = {dep: _lazy_transport(self, dep) for dep in DEPENDENCIES[name]}
                self._built[name] = create_app(name, self._settings, transports=transports)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(SERVICE_NAMES)

    def __len__(self) -> int:
        return len(SERVICE_NAMES)

    def built(self) -> list[Flask]:
        """The apps built so far."""
        return list(self._built.values())


class Store:
    """Every service as an in-process Flask app; calls between them go through WSGI."""

    def __init__(self, settings: Settings, data: SeedData) -> None:
        self.settings = settings
        self.data = data
        self.apps = Apps(settings)

    def client(self, service: str) -> FlaskClient:
        """A Flask test client for one service."""
        return self.apps[service].test_client()

    def ctx(self, service: str) -> Any:
        """The ServiceContext of one service (its db, metrics, dependencies)."""
        return self.apps[service].extensions["shopsim"]

    def metric(self, service: str, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample value from a service's registry (0.0 when the series does not exist)."""
        value = self.ctx(service).metrics.registry.get_sample_value(name, labels or {})
        return 0.0 if value is None else float(value)

    @contextmanager
    def transport(self, service: str, dep: str, transport: httpx.BaseTransport) -> Iterator[None]:
        """While inside, `service`'s calls to `dep` go through `transport`, then the real one."""
        ctx = self.ctx(service)
        original = ctx.deps[dep]
        swapped = Dependency(
            service=service,
            name=dep,
            base_url=ctx.settings.url(dep),
            policy=lambda: ctx.policies.get(dep),
            metrics=ctx.metrics,
            faults=ctx.faults,
            transport=transport,
        )
        ctx.deps[dep] = swapped
        try:
            yield
        finally:
            ctx.deps[dep] = original
            swapped.close()

    def close(self) -> None:
        for app in self.apps.built():
            close_app(app)


def _lazy_transport(apps: Mapping[str, Flask], name: str) -> httpx.WSGITransport:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return apps[name](environ, start_response)

    return httpx.WSGITransport(app=wsgi)


def refusing() -> httpx.MockTransport:
    """A transport on which every request fails to connect: the dependency is down."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return httpx.MockTransport(refuse)


def everything(store: Store) -> dict[str, list[str]]:
    """Every row of every service's tables: compare two snapshots to prove nothing was written."""
    out: dict[str, list[str]] = {}
    for name in SERVICE_NAMES:
        db = store.ctx(name).db
        with db.read() as conn:
            for table in db.metadata.sorted_tables:
                out[table.name] = sorted(repr(tuple(r)) for r in conn.execute(sa.select(table)))
    return out


def make_store(settings: Settings, seed: int = 1, **generate_options: Any) -> Store:
    """Seed the databases, then build every app."""
    data = generate(seed, **generate_options)
    apply(settings, data)
    return Store(settings, data)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SQLite files seeded once from seed 1; tests copy them instead of seeding again."""
    template = tmp_path_factory.mktemp("seeded")
    apply(Settings(run_dir=str(template)), generate(1))
    return template


@pytest.fixture
def store(settings: Settings, seeded_sqlite: Path) -> Iterator[Store]:
    """A seeded in-process store (seed 1) on SQLite."""
    shutil.copytree(seeded_sqlite, settings.run_dir)
    s = Store(settings, generate(1))
    yield s
    s.close()


# --- real processes and PostgreSQL -----------------------------------------------------------


def free_port_base(count: int = len(SERVICE_NAMES)) -> int:
    """A port base whose service ports and metrics side ports are free, chosen at run time."""
    return free_ports(count, offsets=(0, OPERATOR_PORT_OFFSET))


def wait_for(
    condition: Callable[[], T], what: str, timeout_s: float = 60.0, every_s: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy, and return that.

    `timeout_s` only bounds the wait, so a broken store fails the test instead of hanging it;
    keep it generous, since a busy machine may take many times longer than an idle one."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s:.0f}s waiting for {what}")
        time.sleep(every_s)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (none once it is gone)."""
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def assert_all_gone(settings: Settings, pids: list[int], timeout_s: float = 20.0) -> None:
    """Within `timeout_s`, none of `pids` runs and no service port of `settings` is bound."""
    deadline = time.monotonic() + timeout_s
    while True:
        alive = [p for p in pids if _running(p)]
        busy = [n for n in SERVICE_NAMES if port_in_use(settings.host, settings.port(n))]
        if not alive and not busy:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left behind: pids {alive}, ports of {busy}")
        time.sleep(0.2)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the machine's server, dropped afterwards."""
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if os.environ.get("SHOPSIM_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 ({type(exc).__name__})")
    name = f"shopsim_test_{uuid.uuid4().hex[:12]}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    """Settings for real processes: free ports, SQLite in tmp_path, a quick payment gateway."""
    return Settings(
        port_base=free_port_base(),
        run_dir=str(tmp_path / "live"),
        payment_latency_ms=20.0,
        payment_jitter_ms=10.0,
        threads={name: 8 for name in SERVICE_NAMES},
    )


@pytest.fixture
def start_stack() -> Iterator[Any]:
    """Seed and start every service as a real gunicorn process; all stopped at teardown."""
    stacks: list[Stack] = []

    def start(settings: Settings, seed: int = 1) -> Stack:
        apply(settings, generate(seed))
        stack = Stack(settings)
        stacks.append(stack)
        stack.__enter__()
        return stack

    yield start
    for stack in stacks:
        stack.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Store]:
    """The seeded in-process store on SQLite, then on a scratch PostgreSQL database."""
    if request.param == "postgres":
        settings = settings.replace(db_url=request.getfixturevalue("pg_url"))
    s = make_store(settings)
    yield s
    s.close()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Load tests share one xdist group, so at most one runs at a time: two Locust runs on two
    cores would make each other's arrivals late and their verdicts invalid."""
    for item in items:
        if item.get_closest_marker("load"):
            item.add_marker(pytest.mark.xdist_group("load"))


def pytest_configure(config: pytest.Config) -> None:
    """Each xdist worker (and every shopsim it starts) chooses ports in its own slice of the
    range: two workers choosing at once once picked overlapping stores, and one `shopsim up`
    found its storefront port taken."""
    worker, count = (
        os.environ.get("PYTEST_XDIST_WORKER"),
        os.environ.get("PYTEST_XDIST_WORKER_COUNT"),
    )
    if not (worker and count) or PORT_RANGE_ENV in os.environ:
        return
    low, high = PORT_RANGE
    width = (high - low) // int(count)
    start = low + int(worker.removeprefix("gw")) * width
    os.environ[PORT_RANGE_ENV] = f"{start}-{start + width}"
