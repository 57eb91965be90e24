"""The storefront's HTML pages: browse, cart, checkout, orders, registries (sign-in: session.py).

GET  /                                featured products and the doorbusters
GET  /search?q=&category=&offset=     search results, a page at a time
GET  /products/<sku>                  one product, with an add-to-cart form
POST /cart/items                      add to the cart (from the product page)
GET  /cart                            the cart
POST /cart/items/<sku>[/remove]       set a line's quantity (or remove the line)
GET  /checkout, POST /checkout        the order summary and card form; placing the order
GET  /orders/<order_id>               an order's confirmation
GET  /registries?q=&kind=             find a gift registry
GET  /registries/<id>                 its wished items, each with a "Buy as a gift" form
POST /registries/<id>/gift            buy one as a gift

Forms post back and redirect (303) on success; a refused form re-renders its page with a
message and the 4xx status. Failures on the store's side go to the dog page (errorpages.py).
Pages that need a customer send the browser to /login first.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from shopsim.context import current
from shopsim.errors import Conflict, NotFound, ShopsimError, Unprocessable
from shopsim.seeddata import CATEGORIES, REGISTRY_KINDS, Customer
from shopsim.validation import parse_model

from . import errorpages, session, shop
from .api import (
    CartItemRequest,
    CheckoutRequest,
    GiftRequest,
    ProductQuery,
    QuantityRequest,
    RegistryQuery,
)

PAGE_SIZE = 24
T = TypeVar("T")

bp = Blueprint("pages", __name__)
errorpages.install(bp)
bp.before_request(session.load_customer)
bp.add_url_rule("/login", view_func=session.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", view_func=session.logout, methods=["GET", "POST"])


@bp.context_processor
def _header() -> dict[str, Any]:
    return {"customer": g.get("customer")}


@bp.app_template_filter("money")
def money(cents: int) -> str:
    """1234 -> "$12.34"."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status)


def _see_other(endpoint: str, **values: Any) -> BaseResponse:
    return redirect(url_for(endpoint, **values), 303)


def _form_int(name: str) -> int:
    value = request.form.get(name, "").strip()
    if not re.fullmatch(r"-?[0-9]{1,30}", value):
        raise Unprocessable(f"{name} must be a whole number", field=name)
    return int(value)


def _new_key() -> str:
    """An idempotency key minted when a form is rendered, so a double submit orders once."""
    return secrets.token_urlsafe(18)


def _patiently(place: Callable[[], T]) -> T:
    """Place an order; if the same form is still being processed (a double click), wait."""
    for _ in range(10):
        try:
            return place()
        except Conflict as err:
            if err.code != "idempotency_key_in_use":
                raise
            time.sleep(0.5)
    return place()


@bp.get("/")
def home() -> Response:
    """Featured products and the doorbusters."""
    ctx = current()
    featured = [p for p in shop.search(ctx, {"limit": 20})["products"] if not p["doorbuster"]]
    deals = shop.search(ctx, {"q": "doorbuster", "limit": 20})["products"]
    doorbusters = [p for p in deals if p["doorbuster"]]
    return _page("home.html", featured=featured[:8], doorbusters=doorbusters)


@bp.get("/search")
def search() -> Response:
    """Search results, a page at a time."""
    args = {k: request.args[k] for k in ("q", "category", "offset") if k in request.args}
    query = parse_model(ProductQuery, {**args, "limit": PAGE_SIZE})
    found = shop.search(current(), query.model_dump())
    return _page("search.html", query=query, categories=CATEGORIES, **found)


def _product_page(sku: str, status: int = 200, error: str | None = None) -> Response:
    found = shop.product(current(), sku)
    return _page("product.html", status, product=found, error=error, title=found["name"])


@bp.get("/products/<sku>")
def product(sku: str) -> Response:
    """One product with an add-to-cart form."""
    return _product_page(sku)


@bp.post("/cart/items")
def cart_add() -> BaseResponse:
    """Add a product to the cart (from the product page)."""
    sku = request.form.get("sku", "")
    customer = session.signed_in()
    if customer is None:
        return session.login_first(f"/products/{sku}")
    try:
        item = parse_model(CartItemRequest, {"sku": sku, "quantity": _form_int("quantity")})
        shop.add_to_cart(current(), customer.id, item.sku, item.quantity)
    except ShopsimError as err:
        if err.status >= 500:
            raise
        return _product_page(sku, err.status, errorpages.friendly(err))
    return _see_other("pages.cart")


def _cart_page(customer: Customer, status: int = 200, error: str | None = None) -> Response:
    cart = shop.priced_cart(current(), customer.id)
    return _page("cart.html", status, cart=cart, error=error, title="Your cart")


@bp.get("/cart")
def cart() -> BaseResponse:
    """The cart: lines, subtotal, update and remove buttons, the way to checkout."""
    customer = session.signed_in()
    return session.login_first("/cart") if customer is None else _cart_page(customer)


@bp.post("/cart/items/<sku>")
def cart_update(sku: str) -> BaseResponse:
    """Set a line's quantity."""
    customer = session.signed_in()
    if customer is None:
        return session.login_first("/cart")
    try:
        body = parse_model(QuantityRequest, {"quantity": _form_int("quantity")})
        shop.set_quantity(current(), customer.id, sku, body.quantity)
    except ShopsimError as err:
        if err.status >= 500:
            raise
        return _cart_page(customer, err.status, errorpages.friendly(err))
    return _see_other("pages.cart")


@bp.post("/cart/items/<sku>/remove")
def cart_remove(sku: str) -> BaseResponse:
    """Remove a line."""
    customer = session.signed_in()
    if customer is None:
        return session.login_first("/cart")
    try:
        shop.remove_from_cart(current(), customer.id, sku)
    except ShopsimError as err:
        if err.status >= 500:
            raise
        return _cart_page(customer, err.status, errorpages.friendly(err))
    return _see_other("pages.cart")


def _checkout_page(
    customer: Customer, status: int = 200, error: str | None = None, card: str = "tok_visa"
) -> Response:
    cart = shop.priced_cart(current(), customer.id)
    return _page(
        "checkout.html", status, cart=cart, key=_new_key(), card=card, error=error, title="Checkout"
    )


@bp.get("/checkout")
def checkout() -> BaseResponse:
    """Order summary and the card form."""
    customer = session.signed_in()
    return session.login_first("/checkout") if customer is None else _checkout_page(customer)


@bp.post("/checkout")
def checkout_place() -> BaseResponse:
    """Place the order, then show its confirmation."""
    customer = session.signed_in()
    if customer is None:
        return session.login_first("/checkout")
    card = request.form.get("card_token", "")
    try:
        form = {k: request.form.get(k, "") for k in ("idempotency_key", "card_token")}
        body = parse_model(CheckoutRequest, form)
        order = _patiently(
            lambda: shop.place_order(
                current(),
                customer,
                idempotency_key=body.idempotency_key,
                card_token=body.card_token,
            )
        )
    except ShopsimError as err:
        if err.status >= 500:
            raise
        return _checkout_page(customer, err.status, errorpages.friendly(err), card=card[:64])
    return _see_other("pages.order", order_id=order["order_id"])


@bp.get("/orders/<order_id>")
def order(order_id: str) -> BaseResponse:
    """An order's confirmation."""
    customer = session.signed_in()
    if customer is None:
        return session.login_first(f"/orders/{order_id}")
    ctx = current()
    found = shop.order(ctx, order_id)
    if found.get("customer_id", customer.id) != customer.id:
        raise NotFound(f"no order {order_id!r}", field="order_id")
    names = {}
    for item in found.get("items", []):
        try:  # names are a nicety: a confirmed order must not show the dog page for them
            names[item["sku"]] = shop.product(ctx, item["sku"])["name"]
        except ShopsimError:
            names[item["sku"]] = item["sku"]
    return _page("order.html", order=found, names=names, title="Your order")


@bp.get("/registries")
def registries() -> Response:
    """Find a gift registry by name."""
    args = {k: v for k in ("q", "kind") if (v := request.args.get(k))}
    query = parse_model(RegistryQuery, args)
    found = shop.registries(current(), query.model_dump(exclude_none=True))
    return _page(
        "registries.html", query=query, kinds=REGISTRY_KINDS, title="Gift registries", **found
    )


def _registry_page(registry_id: int, status: int = 200, error: str | None = None) -> Response:
    found = shop.registry(current(), registry_id)
    keys = {item["sku"]: _new_key() for item in found["items"]}
    return _page(
        "registry.html", status, registry=found, keys=keys, error=error, title=found["title"]
    )


@bp.get("/registries/<int:registry_id>")
def registry(registry_id: int) -> Response:
    """A registry's wished items, each with a "Buy as a gift" form."""
    return _registry_page(registry_id)


@bp.post("/registries/<int:registry_id>/gift")
def gift(registry_id: int) -> BaseResponse:
    """Buy a registry item as a gift, then show the order."""
    customer = session.signed_in()
    if customer is None:
        return session.login_first(f"/registries/{registry_id}")
    try:
        form = {k: request.form.get(k, "") for k in ("sku", "idempotency_key", "card_token")}
        body = parse_model(
            GiftRequest, {**form, "customer_id": customer.id, "quantity": _form_int("quantity")}
        )
        order = _patiently(
            lambda: shop.buy_gift(
                current(),
                customer,
                registry_id,
                sku=body.sku,
                quantity=body.quantity,
                idempotency_key=body.idempotency_key,
                card_token=body.card_token,
            )
        )
    except ShopsimError as err:
        if err.status >= 500:
            raise
        return _registry_page(registry_id, err.status, errorpages.friendly(err))
    return _see_other("pages.order", order_id=order["order_id"])
