"""The whole store as real gunicorn processes on free ports: buy through the API and the HTML
pages, lint every /metrics with promtool, and race buyers for a doorbuster with retries on.
The same purchase and race run on PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import threading
import uuid

import httpx
import pytest

from shopsim.settings import SERVICE_NAMES, Settings
from tests.conftest import wait_for

pytestmark = pytest.mark.processes


def _api(settings: Settings) -> httpx.Client:
    return httpx.Client(base_url=settings.url("storefront"), timeout=30.0)


def buy_through_api(settings: Settings, customer: int = 3, sku: str = "SKU-0002") -> dict:
    """Add to cart, check out, and check the order, the charge, the stock and the mail."""
    with _api(settings) as api, httpx.Client(timeout=10.0) as direct:
        stock_before = direct.get(f"{settings.url('inventory')}/stock/{sku}").json()
        added = api.post(f"/api/customers/{customer}/cart/items", json={"sku": sku, "quantity": 2})
        assert added.status_code == 200, added.text
        key = f"it-{uuid.uuid4()}"
        body = {"idempotency_key": key, "card_token": "tok_visa"}
        placed = api.post(f"/api/customers/{customer}/checkout", json=body)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "confirmed"
        again = api.post(f"/api/customers/{customer}/checkout", json=body)
        assert again.json()["order_id"] == order["order_id"]  # a retry is the same order

        fetched = api.get(f"/api/orders/{order['order_id']}").json()
        assert fetched["status"] == "confirmed"
        charges = direct.get(
            f"{settings.url('payment')}/charges", params={"reference": order["order_id"]}
        ).json()["charges"]
        assert len(charges) == 1
        assert charges[0]["amount_cents"] == order["total_cents"]
        stock_after = direct.get(f"{settings.url('inventory')}/stock/{sku}").json()
        assert stock_after["on_hand"] == stock_before["on_hand"] - 2
        assert api.get(f"/api/customers/{customer}/cart").json()["items"] == []
        mail = wait_for(
            lambda: direct.get(
                f"{settings.url('notifications')}/mail",
                params={"event_id": f"order-confirmation:{order['order_id']}"},
            ).json()["mail"],
            "the confirmation mail",
        )
        assert len(mail) == 1
        assert mail[0]["recipient_customer_id"] == customer
    return order


def test_purchase_through_the_api_on_sqlite(live_settings, start_stack):
    start_stack(live_settings)
    buy_through_api(live_settings)


@pytest.mark.postgres
def test_purchase_through_the_api_on_postgres(live_settings, start_stack, pg_url):
    settings = live_settings.replace(db_url=pg_url)
    start_stack(settings)
    buy_through_api(settings)


def test_every_metrics_endpoint_passes_promtool(live_settings, start_stack):
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("SHOPSIM_REQUIRE_PROMTOOL"):
            pytest.fail("promtool is required (Debian package prometheus)")
        pytest.skip("promtool not installed (Debian package prometheus)")
    start_stack(live_settings)
    buy_through_api(live_settings)  # so business series have samples, not only zeros
    with httpx.Client(timeout=10.0) as client:
        for name in SERVICE_NAMES:
            # The app's own route and the side port that answers even when it is saturated.
            for url in (f"{live_settings.url(name)}/metrics", live_settings.metrics_url(name)):
                text = client.get(url).text
                assert "shopsim_http_requests_total" in text
                lint = subprocess.run(
                    [promtool, "check", "metrics"], input=text, capture_output=True, text=True
                )
                assert lint.returncode == 0, f"{url}: {lint.stdout}{lint.stderr}"
                assert not re.search(r'(customer_id|order_id|cart_id)="', text), url


def race_for_doorbuster(settings: Settings, buyers: int = 24, sku: str = "DB-0001") -> None:
    """Many buyers, each retrying with its own idempotency key, race for 5 units."""
    results: dict[int, list[dict]] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(buyers)

    def buyer(customer: int) -> None:
        with _api(settings) as api:
            api.post(f"/api/customers/{customer}/cart/items", json={"sku": sku, "quantity": 1})
            body = {"idempotency_key": f"race-{customer}", "card_token": "tok_visa"}
            barrier.wait()
            seen = []
            for _ in range(3):  # the client retries with the same key, as a browser would
                response = api.post(f"/api/customers/{customer}/checkout", json=body)
                seen.append({"status": response.status_code, "body": response.json()})
            with lock:
                results[customer] = seen

    threads = [threading.Thread(target=buyer, args=(c,)) for c in range(1, buyers + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == buyers

    winners = {}
    for customer, seen in results.items():
        statuses = {s["status"] for s in seen}
        assert statuses <= {201, 409, 503}, seen
        orders = {s["body"]["order_id"] for s in seen if s["status"] == 201}
        assert len(orders) <= 1, f"customer {customer} got two orders: {orders}"
        if orders:
            winners[customer] = orders.pop()
    assert len(winners) == 5, f"{len(winners)} confirmed orders for 5 units"

    with httpx.Client(timeout=10.0) as direct:
        stock = direct.get(f"{settings.url('inventory')}/stock/{sku}").json()
        assert stock["on_hand"] == 0 and stock["reserved"] == 0, stock
        for customer in results:
            order_id = winners.get(customer) or _order_id(customer, f"race-{customer}")
            charges = direct.get(
                f"{settings.url('payment')}/charges", params={"reference": order_id}
            ).json()["charges"]
            expected = 1 if customer in winners else 0
            assert len(charges) == expected, f"{order_id} charged {len(charges)} times"


def _order_id(customer: int, key: str) -> str:
    return "ord_" + hashlib.sha256(f"{customer}:{key}".encode()).hexdigest()[:20]


def test_doorbuster_race_never_oversells_on_sqlite(live_settings, start_stack):
    start_stack(live_settings)
    race_for_doorbuster(live_settings)


@pytest.mark.postgres
def test_doorbuster_race_never_oversells_on_postgres(live_settings, start_stack, pg_url):
    settings = live_settings.replace(db_url=pg_url)
    start_stack(settings)
    race_for_doorbuster(settings)


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name} in the page"
    return match.group(1)


def test_purchase_through_the_html_pages(live_settings, start_stack):
    start_stack(live_settings)
    with httpx.Client(base_url=live_settings.url("storefront"), timeout=30.0) as browser:
        home = browser.get("/")
        assert home.status_code == 200 and "Doorbusters" in home.text
        # A page that needs a customer sends the browser to sign in, then back.
        to_login = browser.get("/checkout")
        assert to_login.status_code == 303 and "/login" in to_login.headers["location"]
        signed = browser.post("/login", data={"customer_id": "5", "next": "/products/SKU-0003"})
        assert signed.status_code == 303
        product = browser.get(signed.headers["location"])
        assert product.status_code == 200 and "SKU-0003" in product.text
        added = browser.post(
            "/cart/items", data={"sku": "SKU-0003", "quantity": "1"}, follow_redirects=True
        )
        assert added.status_code == 200 and added.url.path == "/cart"
        cart = browser.get("/api/customers/5/cart").json()
        assert [(i["sku"], i["quantity"]) for i in cart["items"]] == [("SKU-0003", 1)]
        assert cart["items"][0]["name"] in added.text
        page = browser.get("/checkout")
        assert page.status_code == 200
        form = {"idempotency_key": _hidden(page.text, "idempotency_key"), "card_token": "tok_visa"}
        placed = browser.post("/checkout", data=form)
        assert placed.status_code == 303, placed.text[:500]
        order_id = placed.headers["location"].rsplit("/", 1)[-1]
        double_submit = browser.post("/checkout", data=form)  # the back button, pressed again
        assert double_submit.headers["location"].endswith(order_id)
        confirmation = browser.get(placed.headers["location"])
        assert confirmation.status_code == 200
        assert "Your order is confirmed" in confirmation.text and order_id in confirmation.text
    with httpx.Client(timeout=10.0) as direct:
        charges = direct.get(
            f"{live_settings.url('payment')}/charges", params={"reference": order_id}
        ).json()["charges"]
    assert len(charges) == 1


def test_dog_page_when_checkout_is_down(live_settings, start_stack):
    stack = start_stack(live_settings)
    with httpx.Client(base_url=live_settings.url("storefront"), timeout=30.0) as browser:
        browser.post("/login", data={"customer_id": "6", "next": "/"})
        browser.post("/cart/items", data={"sku": "SKU-0004", "quantity": "1"})
        form = {"idempotency_key": _hidden(browser.get("/checkout").text, "idempotency_key")}
        stack.kill("checkout")  # the process dies: callers get connection errors
        failed = browser.post("/checkout", data=form | {"card_token": "tok_visa"})
        assert failed.status_code == 503
        assert "Something went wrong on our end" in failed.text
        assert re.search(r"INC-[0-9A-F]{8}", failed.text)
        metrics = browser.get("/metrics").text
    assert 'shopsim_error_pages_total{page="checkout"} 1.0' in metrics


def test_metrics_side_port_answers_while_every_worker_thread_is_busy(live_settings, start_stack):
    settings = live_settings.replace(threads=dict(live_settings.threads) | {"catalog": 2})
    stack = start_stack(settings)
    # Held far longer than the test waits: every worker thread stays busy until the kill below.
    spec = {"type": "hang", "target": "catalog", "duration_s": 300, "params": {"seconds": 300}}
    assert httpx.post(f"{settings.url('catalog')}/_chaos/faults", json=spec).status_code == 201

    def shop() -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{settings.url('catalog')}/products", timeout=600)

    slow = [threading.Thread(target=shop) for _ in range(4)]  # twice the threads: all held
    for t in slow:
        t.start()
    busy = 'shopsim_worker_threads_busy{service="catalog"} 2.0'
    with httpx.Client(timeout=30.0) as side:

        def both_busy() -> str:
            # Every scrape must be answered while the workers hang, or the wait fails with it.
            text = side.get(settings.metrics_url("catalog")).text
            return text if busy in text else ""

        scrape = wait_for(both_busy, "both catalog workers to be busy")
    assert 'shopsim_http_requests_in_flight{service="catalog"} 2.0' in scrape
    stack.kill("catalog")  # the held requests end with it
    for t in slow:
        t.join()
