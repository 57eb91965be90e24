"""The one place a page failure becomes HTML: the dog page, or a plain "we couldn't do that".

A failure on the store's side (a dependency down, slow or answering 5xx, the service
overloaded, or a bug) renders the dog page: an apology, "our team has been told", and an
incident reference that is also in the log, counted by page (`ERROR_PAGES_SHOWN`). A
refusal on the customer's side (4xx) renders a short page that says what to fix.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template, request
from prometheus_client import Counter
from werkzeug.exceptions import HTTPException

from shopsim.context import ServiceContext, current
from shopsim.errors import ShopsimError, incident_reference
from shopsim.metrics import make
from shopsim.metrics.catalogue.business import ERROR_PAGES_SHOWN
from shopsim.metrics.catalogue.values import ERROR_PAGES as ERROR_PAGES  # the `page` values

from . import state

log = logging.getLogger("shopsim")

#: Which page each pages endpoint counts as.
PAGE_OF_ENDPOINT = {
    "pages.home": "home",
    "pages.search": "search",
    "pages.product": "product",
    "pages.cart": "cart",
    "pages.cart_add": "cart",
    "pages.cart_update": "cart",
    "pages.cart_remove": "cart",
    "pages.checkout": "checkout",
    "pages.checkout_place": "checkout",
    "pages.order": "order",
    "pages.registries": "registry",
    "pages.registry": "registry",
    "pages.gift": "gift",
    "pages.login": "login",
    "pages.logout": "login",
}

#: What a customer is told for the refusals they can do something about.
MESSAGES = {
    "card_declined": "Your card was declined. Please try another card.",
    "insufficient_funds": "Your card has insufficient funds. Please try another card.",
    "cart_empty": "Your cart is empty.",
    "cart_full": "Your cart is full: remove something before adding more.",
    "line_full": "Your cart can hold at most 99 of one product.",
    "not_on_registry": "That item is not on this registry.",
    "idempotency_key_reused": "This form was already used for another order. Please try again.",
    "idempotency_key_in_use": "Your order is still being placed. Please wait a moment.",
}
FIELD_MESSAGES = {
    "quantity": "Quantity must be a whole number from 1 to 99.",
    "card_token": "Card tokens look like tok_visa.",
    "sku": "We couldn't find that product.",
    "customer_id": "We couldn't find that customer.",
    "registry_id": "We couldn't find that registry.",
    "order_id": "We couldn't find that order.",
    "q": "Search for at most 100 characters.",
    "category": "Pick a category from the list.",
    "offset": "That page of results does not exist.",
    "kind": "Pick a registry kind from the list.",
}


def make_counter(ctx: ServiceContext) -> Counter:
    """Create the error-page counter with every page (ERROR_PAGES) at zero."""
    return make(ERROR_PAGES_SHOWN, ctx.metrics.registry)


def friendly(err: ShopsimError) -> str:
    """A sentence for the customer about a refused request."""
    if err.code == "insufficient_stock":
        available = err.extra.get("available")
        sku = err.extra.get("sku", "an item")
        return f"Sorry, only {available} of {sku} left in stock. Please lower the quantity."
    if err.code in MESSAGES:
        return MESSAGES[err.code]
    field = (err.field or "").rsplit(".", 1)[-1]
    return FIELD_MESSAGES.get(field, err.message)


def render_dog(
    status: int, cause: str, *, headers: dict[str, str] | None = None, bug: bool = False
) -> Response:
    """The dog page: sorry, our side failed, here is the incident reference."""
    page = PAGE_OF_ENDPOINT.get(request.endpoint or "", "home")
    ref = incident_reference()
    state.of(current()).error_pages.labels(page).inc()
    # The reference on the page is the key to this line: that is how "our team has been told".
    log.log(
        logging.ERROR if bug else logging.WARNING,
        "incident %s: %s page failed (%s %s): %s",
        ref,
        page,
        request.method,
        request.path,
        cause,
        exc_info=bug,
    )
    html = render_template("dog.html", incident=ref, title="Something went wrong")
    return Response(html, status=status, headers=headers)


def render_problem(status: int, message: str) -> Response:
    """A refused request: what went wrong and where to go next."""
    html = render_template("problem.html", message=message, status=status, title="Sorry")
    return Response(html, status=status)


def install(bp: Blueprint) -> None:
    """Route every error raised by `bp`'s views to the dog page or the problem page."""

    @bp.errorhandler(ShopsimError)
    def _domain(err: ShopsimError) -> Response:
        if err.status >= 500:
            return render_dog(503, f"{err.code}: {err.message}", headers=err.headers)
        return render_problem(err.status, friendly(err))

    @bp.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response | HTTPException:
        if err.code is None:  # a response carried by an exception: send it as it is
            return err
        if err.code >= 500:
            return render_dog(err.code, err.name)
        return render_problem(err.code, err.description or err.name)

    @bp.errorhandler(Exception)
    def _bug(err: Exception) -> Response:
        return render_dog(500, f"{type(err).__name__}: {err}", bug=True)
