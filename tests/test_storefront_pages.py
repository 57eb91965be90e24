"""storefront HTML pages: browsing, sign-in, the cart, checkout and gifts through forms, form
errors re-rendered with a 4xx, and the dog page shown and counted when the store's side fails."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shopsim.services.storefront import errorpages, shop
from tests.conftest import everything, refusing

DOG = "Something went wrong on our end"


def signed_in(store: Any, customer_id: int = 1) -> Any:
    client = store.client("storefront")
    response = client.post("/login", data={"customer_id": str(customer_id)})
    assert response.status_code == 303
    return client


def hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


def error_pages(store: Any, page: str) -> float:
    return store.metric("storefront", "shopsim_error_pages_total", {"page": page})


def text(response: Any) -> str:
    return response.get_data(as_text=True)  # type: ignore[no-any-return]


def add_via_form(client: Any, sku: str = "SKU-0001", quantity: str = "2") -> Any:
    return client.post("/cart/items", data={"sku": sku, "quantity": quantity})


# --- browsing ------------------------------------------------------------------------------------


def test_home_shows_doorbusters_and_featured_products(store):
    response = store.client("storefront").get("/")
    assert response.status_code == 200
    html = text(response)
    assert "<title>shopsim</title>" in html
    for p in store.data.products:
        if p.doorbuster:
            assert p.name in html
    assert "Featured" in html and "Doorbusters" in html
    assert 'href="/products/SKU-0001"' in html
    assert "Sign in" in html


def test_header_shows_the_signed_in_customer_and_the_cart_link(store):
    html = text(signed_in(store, 3).get("/"))
    assert f"Hi, {store.data.customers[2].first_name}" in html
    assert 'href="/cart"' in html
    assert "Sign out" in html


def test_search_lists_matching_products(store):
    html = text(store.client("storefront").get("/search?q=kettle"))
    kettles = [p.name for p in store.data.products if "kettle" in p.name.lower()]
    assert kettles and all(name in html for name in kettles[:5])
    other = next(p for p in store.data.products if "kettle" not in p.name.lower())
    assert other.name not in html


def test_search_pages_through_results(store):
    client = store.client("storefront")
    first = text(client.get("/search"))
    assert 'offset=24">Next' in first
    second = text(client.get("/search?offset=24"))
    assert "Previous" in second


def test_search_without_matches_says_so(store):
    html = text(store.client("storefront").get("/search?q=zzzzzz"))
    assert "No products match" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("offset=-1", "That page of results does not exist."),
        ("offset=abc", "That page of results does not exist."),
        ("q=" + "x" * 101, "Search for at most 100 characters."),
    ],
)
def test_search_bad_query_is_a_4xx_page(store, query, message):
    response = store.client("storefront").get(f"/search?{query}")
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "We couldn't do that" in text(response)
    assert message in text(response)


def test_product_page_has_an_add_to_cart_form(store):
    p = store.data.products[4]
    html = text(store.client("storefront").get(f"/products/{p.sku}"))
    assert p.name in html
    assert f"${p.price_cents // 100}.{p.price_cents % 100:02d}" in html
    assert 'action="/cart/items"' in html
    assert hidden(html, "sku") == [p.sku]


@pytest.mark.parametrize("sku", ["SKU-9999", "nope"])
def test_unknown_product_page_is_404(store, sku):
    response = store.client("storefront").get(f"/products/{sku}")
    assert response.status_code == 404
    assert "find that product" in text(response)


# --- sign-in -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cart", "/checkout", "/orders/ord_00000000000000000000"])
def test_pages_that_need_a_customer_redirect_to_login(store, path):
    response = store.client("storefront").get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/cart/items", {"sku": "SKU-0001", "quantity": "1"}),
        ("/checkout", {"idempotency_key": "k", "card_token": "tok_visa"}),
        ("/registries/1/gift", {"sku": "SKU-0001", "quantity": "1"}),
    ],
)
def test_forms_posted_signed_out_redirect_to_login_and_write_nothing(store, path, data):
    before = everything(store)
    response = store.client("storefront").post(path, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")
    assert everything(store) == before


def test_login_sets_the_cookie_and_returns_to_next(store):
    client = store.client("storefront")
    response = client.post("/login", data={"customer_id": "4", "next": "/cart"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/cart"
    assert client.get_cookie("shopsim_customer").value == "4"


OFF_SITE_OR_BROKEN = [
    "//evil.example/",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "/ /evil.example",
    "https://evil.example/",
    "evil.example",
    "/\nx",
    "/\x00",
    "/\u00e9",
    pytest.param("/" + "x" * 3000, id="3001 characters"),
]


@pytest.mark.parametrize("next_path", OFF_SITE_OR_BROKEN)
def test_login_never_redirects_off_site_or_breaks_the_header(store, next_path):
    before = error_pages(store, "login")
    client = store.client("storefront")
    response = client.post("/login", data={"customer_id": "4", "next": next_path})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert client.get_cookie("shopsim_customer").value == "4"
    form = client.get("/login", query_string={"next": next_path})
    assert form.status_code == 200
    assert hidden(text(form), "next") == ["/"]
    assert error_pages(store, "login") == before


@pytest.mark.parametrize(
    "next_path", ["/", "/cart", "/orders/ord_1", "/search?q=tea%20pot&offset=24", "/a/b/"]
)
def test_login_returns_to_any_path_on_the_site(store, next_path):
    response = store.client("storefront").post(
        "/login", data={"customer_id": "4", "next": next_path}
    )
    assert response.headers["Location"] == next_path


@pytest.mark.parametrize(
    ("value", "status"), [("9999", 404), ("0", 404), ("abc", 422), ("", 422), ("1" * 40, 404)]
)
def test_login_with_a_bad_id_re_renders_with_a_message(store, value, status):
    client = store.client("storefront")
    response = client.post("/login", data={"customer_id": value})
    assert response.status_code == status
    assert 'class="alert"' in text(response)
    assert client.get_cookie("shopsim_customer") is None


def test_a_cookie_naming_nobody_is_signed_out(store):
    client = store.client("storefront")
    client.set_cookie("shopsim_customer", "99999")
    assert client.get("/cart").status_code == 303


def test_logout_forgets_the_customer(store):
    client = signed_in(store)
    assert client.get("/logout").status_code == 303
    assert client.get("/cart").status_code == 303


# --- cart ----------------------------------------------------------------------------------------


def test_add_to_cart_form_redirects_to_the_cart(store):
    client = signed_in(store)
    response = add_via_form(client, "SKU-0001", "2")
    assert response.status_code == 303
    assert response.headers["Location"] == "/cart"
    html = text(client.get("/cart"))
    p = store.data.products[0]
    assert p.name in html
    total = 2 * p.price_cents
    assert f"${total // 100:,}.{total % 100:02d}" in html
    assert 'href="/checkout"' in html


@pytest.mark.parametrize(
    ("quantity", "status"), [("0", 422), ("-1", 422), ("100", 422), ("abc", 422), ("", 422)]
)
def test_bad_quantity_re_renders_the_product_page(store, quantity, status):
    client = signed_in(store)
    before = everything(store)
    response = add_via_form(client, "SKU-0001", quantity)
    assert response.status_code == status
    html = text(response)
    assert "Quantity must be a whole number from 1 to 99." in html
    assert 'action="/cart/items"' in html  # the product page again, form and all
    assert everything(store) == before


def test_unknown_sku_in_the_form_is_404(store):
    client = signed_in(store)
    before = everything(store)
    response = add_via_form(client, "SKU-9999", "1")
    assert response.status_code == 404
    assert "find that product" in text(response)
    assert everything(store) == before


def test_cart_page_updates_and_removes_lines(store):
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "2")
    add_via_form(client, "SKU-0002", "1")
    assert client.post("/cart/items/SKU-0001", data={"quantity": "5"}).status_code == 303
    assert client.post("/cart/items/SKU-0002/remove").status_code == 303
    cart = store.client("cart").get("/carts/1").get_json()
    assert cart["items"] == [{"sku": "SKU-0001", "quantity": 5}]


def test_cart_update_with_a_bad_quantity_re_renders_the_cart(store):
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "2")
    before = everything(store)
    response = client.post("/cart/items/SKU-0001", data={"quantity": "0"})
    assert response.status_code == 422
    assert "Quantity must be" in text(response) and "Subtotal" in text(response)
    assert everything(store) == before


def test_oversized_form_is_413_html(store):
    client = signed_in(store)
    response = client.post(
        "/cart/items", data={"sku": "S" * (store.settings.max_body_bytes + 1), "quantity": "1"}
    )
    assert response.status_code == 413
    assert response.mimetype == "text/html"


# --- checkout ------------------------------------------------------------------------------------


def test_checkout_form_has_a_card_field_and_a_fresh_key(store):
    client = signed_in(store)
    add_via_form(client)
    first, second = text(client.get("/checkout")), text(client.get("/checkout"))
    assert hidden(first, "card_token") == ["tok_visa"]
    assert len(hidden(first, "idempotency_key")) == 1
    assert hidden(first, "idempotency_key") != hidden(second, "idempotency_key")


def test_checkout_via_form_shows_the_confirmation(store):
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "2")
    key = hidden(text(client.get("/checkout")), "idempotency_key")[0]
    response = client.post("/checkout", data={"idempotency_key": key, "card_token": "tok_visa"})
    assert response.status_code == 303
    order_id = response.headers["Location"].rsplit("/", 1)[1]
    assert order_id.startswith("ord_")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = text(page)
    assert order_id in html and "Your order is confirmed" in html
    assert store.data.products[0].name in html


def test_double_submit_orders_once(store):
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "1")
    key = hidden(text(client.get("/checkout")), "idempotency_key")[0]
    form = {"idempotency_key": key, "card_token": "tok_visa"}
    first = client.post("/checkout", data=form).headers["Location"]
    second = client.post("/checkout", data=form).headers["Location"]
    assert first == second
    order_id = first.rsplit("/", 1)[1]
    charges = store.client("payment").get(f"/charges?reference={order_id}").get_json()
    assert len(charges["charges"]) == 1


def test_declined_card_re_renders_checkout_with_a_new_key(store):
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "1")
    key = hidden(text(client.get("/checkout")), "idempotency_key")[0]
    response = client.post("/checkout", data={"idempotency_key": key, "card_token": "tok_decline"})
    assert response.status_code == 402
    html = text(response)
    assert "Your card was declined" in html
    assert hidden(html, "card_token") == ["tok_decline"]
    assert hidden(html, "idempotency_key") != [key]
    assert store.client("cart").get("/carts/1").get_json()["items"]  # the cart is kept


def test_bad_card_token_is_422_and_writes_nothing(store):
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "1")
    before = everything(store)
    response = client.post("/checkout", data={"idempotency_key": "k1", "card_token": "visa"})
    assert response.status_code == 422
    assert "tok_visa" in text(response)
    assert everything(store) == before


def test_out_of_stock_re_renders_checkout_with_a_message(store):
    client = signed_in(store)
    add_via_form(client, "DB-0001", "6")  # doorbusters have 5 in stock
    key = hidden(text(client.get("/checkout")), "idempotency_key")[0]
    response = client.post("/checkout", data={"idempotency_key": key, "card_token": "tok_visa"})
    assert response.status_code == 409
    assert "only 5 of DB-0001 left" in text(response)


def test_empty_cart_checkout_page_says_so(store):
    client = signed_in(store, 9)
    html = text(client.get("/checkout"))
    assert "Your cart is empty" in html
    assert hidden(html, "idempotency_key") == []
    response = client.post("/checkout", data={"idempotency_key": "k", "card_token": "tok_visa"})
    assert response.status_code == 409


def test_order_page_of_another_customer_is_404(store):
    client = signed_in(store, 1)
    add_via_form(client, "SKU-0001", "1")
    key = hidden(text(client.get("/checkout")), "idempotency_key")[0]
    location = client.post("/checkout", data={"idempotency_key": key, "card_token": "tok_visa"})
    other = signed_in(store, 2)
    assert other.get(location.headers["Location"]).status_code == 404


# --- the dog page --------------------------------------------------------------------------------


def test_error_page_counter_exists_at_zero_for_every_page(store):
    for page in errorpages.ERROR_PAGES:
        value = store.ctx("storefront").metrics.registry.get_sample_value(
            "shopsim_error_pages_total", {"page": page}
        )
        assert value == 0.0


def test_every_page_endpoint_has_an_error_page_label(store):
    endpoints = {
        rule.endpoint
        for rule in store.apps["storefront"].url_map.iter_rules()
        if rule.endpoint.startswith("pages.")
    }
    assert endpoints == set(errorpages.PAGE_OF_ENDPOINT)
    assert set(errorpages.PAGE_OF_ENDPOINT.values()) <= set(errorpages.ERROR_PAGES)


def checkout_while_down(store: Any, service: str, dep: str) -> Any:
    """Sign in, add one SKU-0001 and submit the checkout form while `service` cannot reach `dep`."""
    client = signed_in(store)
    add_via_form(client, "SKU-0001", "1")
    key = hidden(text(client.get("/checkout")), "idempotency_key")[0]
    with store.transport(service, dep, refusing()):
        return client.post("/checkout", data={"idempotency_key": key, "card_token": "tok_visa"})


def test_checkout_unreachable_shows_the_dog_page(store):
    response = checkout_while_down(store, "storefront", "checkout")
    assert response.status_code == 503
    html = text(response)
    assert DOG in html and "Our team has been told" in html
    assert re.search(r"INC-[0-9A-F]{8}", html)
    assert "<svg" in html
    assert error_pages(store, "checkout") == 1.0
    assert error_pages(store, "home") == 0.0


def test_payment_unreachable_behind_checkout_shows_the_dog_page_and_charges_nothing(store):
    response = checkout_while_down(store, "checkout", "payment")
    assert response.status_code == 503
    assert DOG in text(response)
    assert error_pages(store, "checkout") == 1.0
    stock = store.client("inventory").get("/stock/SKU-0001").get_json()
    assert stock["reserved"] == 0  # the saga released what it held


def test_catalog_unreachable_shows_the_dog_page_on_home(store):
    with store.transport("storefront", "catalog", refusing()):
        response = store.client("storefront").get("/")
    assert response.status_code == 503
    assert DOG in text(response)
    assert error_pages(store, "home") == 1.0


def test_a_bug_shows_the_dog_page_with_500(store, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(shop, "priced_cart", broken)
    response = signed_in(store).get("/cart")
    assert response.status_code == 500
    assert DOG in text(response)
    assert error_pages(store, "cart") == 1.0


def test_each_incident_gets_its_own_reference(store):
    client = store.client("storefront")
    with store.transport("storefront", "registry", refusing()):
        first, second = text(client.get("/registries")), text(client.get("/registries"))
    refs = re.findall(r"INC-[0-9A-F]{8}", first) + re.findall(r"INC-[0-9A-F]{8}", second)
    assert len(set(refs)) == 2
    assert error_pages(store, "registry") == 2.0


# --- registries and gifts ------------------------------------------------------------------------


def test_registries_page_finds_by_name(store):
    registry = store.data.registries[0]
    owner = store.data.customers[registry.owner_customer_id - 1]
    html = text(store.client("storefront").get(f"/registries?q={owner.first_name}"))
    assert registry.title.replace("'", "&#39;") in html
    assert f'href="/registries/{registry.id}"' in html


def test_registries_page_with_a_bad_kind_is_422(store):
    response = store.client("storefront").get("/registries?kind=party")
    assert response.status_code == 422


def test_registry_page_asks_signed_out_visitors_to_sign_in(store):
    html = text(store.client("storefront").get("/registries/1"))
    assert "Sign in to buy as a gift" in html
    assert "Buy as a gift</button>" not in html


def test_unknown_registry_page_is_404(store):
    assert store.client("storefront").get("/registries/9999").status_code == 404


def test_gift_via_form_shows_the_order(store):
    registry = store.data.registries[0]
    sku = registry.items[0][0]
    client = signed_in(store, 10)
    html = text(client.get(f"/registries/{registry.id}"))
    assert html.count("Buy as a gift</button>") == len(registry.items)
    keys = dict(zip(hidden(html, "sku"), hidden(html, "idempotency_key"), strict=True))
    form = {"sku": sku, "quantity": "1", "card_token": "tok_visa", "idempotency_key": keys[sku]}
    response = client.post(f"/registries/{registry.id}/gift", data=form)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Your order is confirmed" in page
    assert f"registry #{registry.id}" in page
    items = store.client("registry").get(f"/registries/{registry.id}").get_json()["items"]
    assert next(i for i in items if i["sku"] == sku)["purchased"] == 1


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"quantity": "0"}, 422, "Quantity must be"),
        ({"quantity": "lots"}, 422, "Quantity must be"),
        ({"sku": "SKU-9999"}, 404, "not on this registry"),
        ({"card_token": "tok_decline"}, 402, "Your card was declined"),
    ],
)
def test_gift_form_errors_re_render_the_registry(store, changes, status, message):
    registry = store.data.registries[0]
    client = signed_in(store, 10)
    form = {
        "sku": registry.items[0][0],
        "quantity": "1",
        "card_token": "tok_visa",
        "idempotency_key": "gift-form-1",
    }
    response = client.post(f"/registries/{registry.id}/gift", data=form | changes)
    assert response.status_code == status
    html = text(response)
    assert message in html
    assert registry.title.replace("'", "&#39;") in html


def test_gift_form_failure_on_our_side_is_the_gift_dog_page(store):
    registry = store.data.registries[0]
    form = {
        "sku": registry.items[0][0],
        "quantity": "1",
        "card_token": "tok_visa",
        "idempotency_key": "gift-form-2",
    }
    client = signed_in(store, 10)
    with store.transport("storefront", "checkout", refusing()):
        response = client.post(f"/registries/{registry.id}/gift", data=form)
    assert response.status_code == 503
    assert DOG in text(response)
    assert error_pages(store, "gift") == 1.0
