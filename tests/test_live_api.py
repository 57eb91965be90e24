"""The storefront API as a client meets it: every service a real gunicorn process on free ports.

Requests gunicorn refuses before the app runs still get the house JSON error, and schemathesis
(every check, a fixed seed, a bounded number of cases) finds nothing against the OpenAPI
document the storefront serves.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopsim.runner import Stack
from shopsim.seed import apply, generate
from shopsim.settings import SERVICE_NAMES, Settings
from tests.conftest import free_port_base

pytestmark = pytest.mark.processes

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The seed-1 store, every service its own gunicorn process, for this module's tests."""
    settings = Settings(
        port_base=free_port_base(),
        run_dir=str(tmp_path_factory.mktemp("live-api")),
        payment_latency_ms=5.0,
        payment_jitter_ms=2.0,
        threads={name: 4 for name in SERVICE_NAMES},
    )
    apply(settings, generate(1))
    with Stack(settings):
        yield settings


def raw_exchange(settings: Settings, service: str, request: bytes) -> tuple[int, dict, str]:
    """Send bytes as they are; (status, headers, body) of the answer."""
    with socket.create_connection((settings.host, settings.port(service)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body.decode()


@pytest.mark.parametrize("service", ["storefront", "cart"])
def test_overlong_request_line_is_414_in_json(live, service):
    url = live.url(service) + "/api/products?q=" + "x" * 5000
    response = httpx.get(url, timeout=10)
    assert response.status_code == 414
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("uri_too_long", "url")
    assert "4094 bytes" in error["message"]
    ok = httpx.get(live.url("storefront") + "/api/products?q=" + "x" * 101, timeout=10)
    assert ok.status_code == 422  # under the limit the app answers: q is at most 100 long


def test_oversized_header_is_431_in_json(live):
    big = b"X-Big: " + b"a" * 9000 + b"\r\n"
    request = b"GET /api/products HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n"
    status, headers, body = raw_exchange(live, "storefront", request)
    assert status == 431
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["field"] == "headers"


def test_garbled_request_line_is_400_in_json(live):
    status, headers, body = raw_exchange(live, "storefront", b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_schemathesis_finds_nothing(live, tmp_path):
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if st is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    command = [
        st,
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        live.url("storefront") + "/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "25",
        "--seed",
        "1",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    report = done.stdout[-20_000:] + done.stderr[-5_000:]
    assert done.returncode == 0, report
    document = httpx.get(live.url("storefront") + "/api/openapi.json", timeout=10).json()
    operations = sum(
        len(methods) for path, methods in document["paths"].items() if path != "/api/openapi.json"
    )
    # every operation of the document was tried (the document itself may or may not be counted)
    counted = re.search(r"(\d+) selected / (\d+) total", done.stdout)
    assert counted, done.stdout[-2000:]
    selected, total = int(counted.group(1)), int(counted.group(2))
    assert selected == total and total in (operations, operations + 1), done.stdout[-2000:]
