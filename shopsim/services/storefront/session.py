"""Who is shopping: sign in by picking a customer id, remembered in a cookie.

The cookie is plain: this is a simulator with no passwords, so anyone may be anyone and
signing the cookie would protect nothing. A cookie naming nobody means signed out.

Views that may redirect return werkzeug's `Response` (`BaseResponse` here), the type flask's
`redirect` gives; flask's own `Response`, which pages render into, is a subclass of it.
"""

from __future__ import annotations

import re

from flask import Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from shopsim.context import current
from shopsim.seeddata import Customer

from .customers import find_customer

COOKIE = "shopsim_customer"
DIGITS = re.compile(r"[0-9]{1,10}")  # a customer id as text (ASCII digits only)


def _lookup(raw: str) -> Customer | None:
    return find_customer(current().db, int(raw)) if DIGITS.fullmatch(raw) else None


def load_customer() -> None:
    """Before each page: who is signed in (None when nobody)."""
    g.customer = _lookup(request.cookies.get(COOKIE, ""))


def signed_in() -> Customer | None:
    """The signed-in customer of this request."""
    customer = g.get("customer")  # flask's g holds anything; load_customer put this there
    return customer if isinstance(customer, Customer) else None


def login_first(next_path: str) -> BaseResponse:
    """Send the browser to sign in, then back to `next_path`."""
    return redirect(url_for("pages.login", next=next_path), 303)


#: A path on this site made of the characters a URL holds unescaped. That leaves out "//"
#: and "/\\" (another host), control characters and spaces: browsers drop tabs and newlines
#: from a Location, so "/<tab>/evil.example" would become "//evil.example", and a newline
#: cannot go in a header at all.
SAFE_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/?#-]{0,1999}")


def safe_next(value: str) -> str:
    """`value` if it is a plain path on this site, else "/": the one check every redirect to a
    caller-supplied place goes through, so none can leave the site or break the header."""
    return value if SAFE_PATH.fullmatch(value) else "/"


def login() -> BaseResponse:
    """GET: the sign-in form. POST: pick a customer by id; a cookie remembers them."""
    next_path = safe_next(request.values.get("next", "/"))
    if request.method == "GET":
        return Response(render_template("login.html", next=next_path, title="Sign in"))
    raw = request.form.get("customer_id", "").strip()
    found = _lookup(raw)
    if found is None:
        status = 404 if re.fullmatch(r"[0-9]+", raw) else 422
        error = f"No customer with id {raw}." if status == 404 else "Enter a customer id number."
        html = render_template("login.html", next=next_path, error=error, title="Sign in")
        return Response(html, status=status)
    response = redirect(next_path, 303)
    response.set_cookie(COOKIE, str(found.id), httponly=True, samesite="Lax")
    return response


def logout() -> BaseResponse:
    """Forget who is signed in."""
    response = redirect(url_for("pages.home"), 303)
    response.delete_cookie(COOKIE)
    return response
