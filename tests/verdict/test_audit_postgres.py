"""The audit on PostgreSQL, where every service's tables share one database: read in one READ
ONLY snapshot, clean when nothing went wrong, and the misfire and duplicate charge faults found
exactly as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from shopsim.services.notifications import send_pending
from shopsim.services.payment.tables import charges
from shopsim.verdict.audit import audit
from shopsim.verdict.snapshot import readonly
from tests.conftest import Store, everything, make_store
from tests.faults.conftest import add_fault, reset_faults
from tests.verdict.shop import databases, found, gift, order, shop_cleanly

pytestmark = pytest.mark.postgres
DURATION = {"duration_s": 60.0, "probability": 1.0}


@pytest.fixture
def pg_store(settings, pg_url) -> Iterator[Store]:
    """The seeded in-process store on a scratch PostgreSQL database (dropped afterwards)."""
    store = make_store(settings.replace(db_url=pg_url))
    yield store
    store.close()


def test_clean_store_on_postgres_audits_clean_and_unchanged(pg_store):
    shop_cleanly(pg_store)
    urls = databases(pg_store)
    assert len(set(urls.values())) == 1 and urls["payment"].startswith("postgresql")
    rows = everything(pg_store)
    integrity = audit(urls)
    assert integrity.clean and found(integrity) == {}
    assert len(integrity.checked) == 10
    assert everything(pg_store) == rows


def test_postgres_audit_transaction_is_read_only(pg_store):
    with readonly(databases(pg_store)["payment"]) as conn, pytest.raises(sa.exc.DBAPIError) as err:
        conn.execute(charges.delete())
    assert "read-only" in str(err.value)


def test_plain_postgresql_urls_use_the_installed_driver(pg_store):
    url = databases(pg_store)["payment"].replace("postgresql+psycopg://", "postgresql://")
    with readonly(url) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(charges)).scalar_one() == 0


def test_notification_misfire_on_postgres(pg_store):
    shop_cleanly(pg_store)
    add_fault(pg_store, {"type": "notification_misfire", "target": "notifications"} | DURATION)
    try:
        assert gift(pg_store, "mis-pg", registry_index=2).status_code == 201
        send_pending(pg_store.ctx("notifications"))
    finally:
        reset_faults(pg_store)
    everyone = len(pg_store.data.customers)
    integrity = audit(databases(pg_store))
    assert found(integrity) == {
        "gift_alert_wrong_mail": everyone - 1,
        "gift_alert_wrong_recipient": everyone - 1,
    }


def test_duplicate_charge_on_postgres(pg_store):
    shop_cleanly(pg_store)
    add_fault(pg_store, {"type": "duplicate_charge", "target": "checkout"} | DURATION)
    try:
        placed = order(pg_store, 13, "dup-pg", items=[{"sku": "SKU-0007", "quantity": 1}])
    finally:
        reset_faults(pg_store)
    assert placed.status_code == 201
    send_pending(pg_store.ctx("notifications"))
    integrity = audit(databases(pg_store))
    assert found(integrity) == {"duplicate_charge": 1}
    [example] = integrity.examples["duplicate_charge"]
    assert example["order_id"] == placed.get_json()["order_id"]
    assert example["overcharged_cents"] == placed.get_json()["total_cents"]
