"""The storefront's own table: the customers who can sign in and place orders."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select

from shopsim.db import Database
from shopsim.errors import NotFound
from shopsim.seeddata import Customer, SeedData

#: The same bounds as `shopsim.validation.CustomerId`: anything outside cannot exist, and
#: checking first keeps a huge path integer from overflowing the database driver.
MIN_ID, MAX_ID = 1, 2**31 - 1

metadata = MetaData()
customers = Table(
    "storefront_customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(200), nullable=False),
)


#: Built once: SQLAlchemy constructs and cache-keys a statement anew on every call otherwise,
#: about as costly as running it (this one runs on every /api/customers/<id> request).
_BY_ID = select(customers).where(customers.c.id == bindparam("customer_id"))


def find_customer(db: Database, customer_id: int) -> Customer | None:
    """The customer with this id, or None."""
    if not MIN_ID <= customer_id <= MAX_ID:
        return None
    with db.read() as conn:
        row = conn.execute(_BY_ID, {"customer_id": customer_id}).first()
    if row is None:
        return None
    return Customer(row.id, row.first_name, row.last_name, row.email)


def require_customer(db: Database, customer_id: int) -> Customer:
    """The customer with this id; 404 naming ``customer_id`` when there is none."""
    customer = find_customer(db, customer_id)
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}", field="customer_id")
    return customer


def customer_json(customer: Customer) -> dict[str, object]:
    """The API's view of a customer."""
    return {
        "id": customer.id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
    }


def load_seed(db: Database, data: SeedData) -> None:
    """Insert the seed's customers."""
    with db.write() as conn:
        conn.execute(
            customers.insert(),
            [
                {"id": c.id, "first_name": c.first_name, "last_name": c.last_name, "email": c.email}
                for c in data.customers
            ],
        )
