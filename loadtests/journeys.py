"""Customer journeys over the storefront's HTML pages, each page checked for what a customer sees.

A journey is a plain function of a `Visit`: a client with its own cookies (Locust's
FastHttpSession), a seeded `random.Random`, and the customer it signs in as. Every request is
sent with ``catch_response=True``, grouped under a URL template (``/products/[sku]``) and
checked for its status and a marker of the page. The dog page ("Something went wrong on our
end") is a failure of kind `ErrorPage`, counted as result ``error_page``.

Every request a journey sends belongs to a flow (browse, cart, checkout, gift), looked up in
`flows.REQUEST_FLOWS` as it is sent and carried to the metrics in its context. Journey results
(the load's journeys counter, ``LOAD_JOURNEYS`` in the metric catalogue, and the JOURNEY rows of
Locust's stats), kept to four:

- ``ok``: every page as expected (for buyers: "Your order is confirmed").
- ``sold_out``: a doorbuster was gone, the checkout page said so with a 409; the shopper
  removed it from the cart. A business outcome, not a failure of the site: the request is ok.
- ``error_page``: the store showed the dog page.
- ``failure``: anything else (wrong status, missing content, connection error, timeout).

No Locust import: the journeys only need a client with Locust's ``request()`` signature.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from urllib.parse import quote

from .visit import (
    SOLD_OUT,
    JourneyFailed,
    JourneyStop,
    Page,
    Visit,
    _follow,
    _path,
)

log = logging.getLogger("shopsim.loadtests")

CONFIRMED_MARK = "Your order is confirmed"
CARD = "tok_visa"
DOORBUSTERS = tuple(f"DB-{i:04d}" for i in range(1, 6))
#: Share of shoppers who come for a doorbuster (DB-0001..DB-0005, 5 units each in the seed).
DOORBUSTER_SHARE = 0.3
#: The seed's product SKUs, for when a search page offers no link to follow.
PRODUCTS = tuple(f"SKU-{i:04d}" for i in range(1, 121))
SEARCH_WORDS = (
    "stroller blanket kettle headphones trowel novel jacket rattle crib mixer speaker planter "
    "cozy deluxe compact classic smart organic toys kitchen books garden doorbuster unicorn"
).split()
REGISTRY_WORDS = (
    "Ada Grace Alan Linus Margaret Ken Barbara Dennis Frances Radia baby wedding".split()
)

#: Request types of the summary events a journey fires (not HTTP requests).
JOURNEY_TYPE = "JOURNEY"
ARRIVAL_TYPE = "ARRIVAL"

PRODUCT_LINK = re.compile(r'href="/products/((?:SKU|DB)-[0-9]{4})"')
REGISTRY_LINK = re.compile(r'href="/registries/([0-9]+)"')
CHECKOUT_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
GIFT_FORM = re.compile(
    r'name="sku" value="([A-Z]+-[0-9]{4})">\s*'
    r'<input type="hidden" name="idempotency_key" value="([^"]+)">'
)
ORDER_PATH = re.compile(r"/orders/([A-Za-z0-9_-]{1,64})")  # used with fullmatch


def sign_in(visit: Visit, next_path: str) -> None:
    """POST /login as the visit's customer; the cookie it sets keeps them signed in."""
    form = {"customer_id": str(visit.customer_id), "next": next_path}
    _follow(visit.page("POST", "/login", "/login", expect=303, data=form), next_path)


def _search(visit: Visit) -> str:
    """Search for a word and pick a product from the results (any product when none)."""
    word = visit.rng.choice(SEARCH_WORDS)
    found = visit.page("GET", f"/search?q={quote(word)}", "/search?q=[q]", marker="<h1>")
    skus = [s for s in PRODUCT_LINK.findall(found.text) if s not in DOORBUSTERS]
    return visit.rng.choice(skus) if skus else visit.rng.choice(PRODUCTS)


def _product(visit: Visit, sku: str) -> None:
    visit.page("GET", f"/products/{sku}", "/products/[sku]", marker=f'name="sku" value="{sku}"')


def _confirmation(visit: Visit, placed: Page) -> None:
    """Follow the 303 after an order to its page and check that it is confirmed."""
    path = _path(placed.location)
    if not ORDER_PATH.fullmatch(path):
        raise JourneyStop("failure", f"order placed but redirected to {placed.location!r}")
    visit.page("GET", path, "/orders/[id]", marker=CONFIRMED_MARK)


def browse(visit: Visit) -> str:
    """Home, one to three searches each with a product, now and then a doorbuster."""
    home = visit.page("GET", "/", "/", marker="Sale day is here")
    for _ in range(visit.rng.randint(1, 3)):
        _product(visit, _search(visit))
    if visit.rng.random() < DOORBUSTER_SHARE:
        deals = [s for s in PRODUCT_LINK.findall(home.text) if s in DOORBUSTERS]
        _product(visit, visit.rng.choice(deals or list(DOORBUSTERS)))
    return "ok"


def shop(visit: Visit) -> str:
    """Sign in, find a product (a doorbuster for some), add it to the cart, check out."""
    sign_in(visit, "/")
    visit.page("GET", "/", "/", marker="Sale day is here")
    if visit.rng.random() < DOORBUSTER_SHARE:
        sku, quantity = visit.rng.choice(DOORBUSTERS), 1
    else:
        sku, quantity = _search(visit), visit.rng.randint(1, 2)
    _product(visit, sku)
    form = {"sku": sku, "quantity": str(quantity)}
    added = visit.page("POST", "/cart/items", "/cart/items", expect=303, data=form)
    _follow(added, "/cart")
    visit.page("GET", "/cart", "/cart", marker=sku)
    checkout = visit.page("GET", "/checkout", "/checkout", marker="Place order")
    key = CHECKOUT_KEY.search(checkout.text)
    if key is None:
        raise JourneyStop("failure", "checkout page without an idempotency_key")
    form = {"idempotency_key": key.group(1), "card_token": CARD}
    placed = visit.page("POST", "/checkout", "/checkout", expect=303, data=form, checkout=True)
    if placed.status == 409:
        gone = SOLD_OUT.search(placed.text)
        # Take the sold-out line out, as a customer would, so the next visit can still buy.
        path = f"/cart/items/{gone.group(1) if gone else sku}/remove"
        visit.page("POST", path, "/cart/items/[sku]/remove", expect=303)
        return "sold_out"
    _confirmation(visit, placed)
    return "ok"


def buy_gift(visit: Visit) -> str:
    """Sign in, find a registry by name, buy one wished item as a gift."""
    sign_in(visit, "/registries")
    listed = visit.page("GET", "/registries", "/registries", marker="Gift registries")
    word = visit.rng.choice(REGISTRY_WORDS)
    found = visit.page(
        "GET", f"/registries?q={quote(word)}", "/registries?q=[q]", marker="Gift registries"
    )
    ids = REGISTRY_LINK.findall(found.text) or REGISTRY_LINK.findall(listed.text)
    if not ids:
        raise JourneyStop("failure", "no registry listed")
    registry_id = visit.rng.choice(ids)
    registry = visit.page(
        "GET", f"/registries/{registry_id}", "/registries/[id]", marker="registry for"
    )
    forms = GIFT_FORM.findall(registry.text)
    if not forms:
        raise JourneyStop("failure", "registry page without a gift form")
    sku, key = visit.rng.choice(forms)
    form = {"sku": sku, "quantity": "1", "idempotency_key": key, "card_token": CARD}
    path = f"/registries/{registry_id}/gift"
    placed = visit.page("POST", path, "/registries/[id]/gift", expect=303, data=form, checkout=True)
    if placed.status == 409:
        return "sold_out"
    _confirmation(visit, placed)
    return "ok"


JOURNEYS: dict[str, Callable[[Visit], str]] = {
    "browser": browse,
    "shopper": shop,
    "gift_buyer": buy_gift,
}


def run_journey(journey: str, visit: Visit, fire: Callable[..., None], started: float) -> str:
    """Run one journey and report it as a JOURNEY event timed from `started` (perf_counter).

    For the open model `started` is the intended start, so the time includes any lag.
    """
    try:
        result = JOURNEYS[journey](visit)
        reason = ""
    except JourneyStop as stop:
        result, reason = stop.result, str(stop)
    except Exception as err:  # a bug in a journey must not kill the load process
        log.exception("journey %s crashed", journey)
        result, reason = "failure", f"journey crashed: {type(err).__name__}"
    fire(
        request_type=JOURNEY_TYPE,
        name=journey,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=JourneyFailed(reason) if result in ("failure", "error_page") else None,
        context={
            "result": result,
            "checkouts": tuple(visit.checkouts),
            "customer": visit.customer_id,
        },
    )
    return result
