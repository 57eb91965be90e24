"""Who is shopping: sign in by picking a customer id, remembered in a cookie.

The cookie is plain: this is a simulator with no passwords, so anyone may be anyone and
signing the cookie would protect nothing. A cookie naming nobody means signed out.
"""

from __future__ import annotations

import re

from flask import Response, g, redirect, render_template, request, url_for

from shopsim.context import current
from shopsim.seed import Customer

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
    return g.get("customer")  # type: ignore[no-any-return]


def login_first(next_path: str) -> Response:
    """Send the browser to sign in, then back to `next_path`."""
    return redirect(url_for("pages.login", next=next_path), 303)  # type: ignore[return-value]


def safe_next(value: str) -> str:
    """Only a path on this site: never an open redirect to another host."""
    ok = value.startswith("/") and not value.startswith(("//", "/\\"))
    return value if ok else "/"


def login() -> Response:
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
    return response  # type: ignore[return-value]


def logout() -> Response:
    """Forget who is signed in."""
    response = redirect(url_for("pages.home"), 303)
    response.delete_cookie(COOKIE)
    return response  # type: ignore[return-value]
