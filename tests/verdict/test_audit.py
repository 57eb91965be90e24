"""The audit as a whole: a store that shopped cleanly audits clean, reading never writes, every
kind has a check and a meaning, and databases it cannot read are named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from shopsim.services.payment.tables import charges
from shopsim.verdict.audit import CHECKS, KINDS, NOTICES, AuditError, audit
from shopsim.verdict.findings import Findings
from shopsim.verdict.snapshot import SOURCES, readonly
from tests.conftest import everything
from tests.verdict.shop import databases, file_states, found, shop_cleanly


def data_files(states: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """Every file's size and mtime, except the -shm's mtime: the -shm is SQLite's shared-memory
    index, where every reader takes its read lock (and a first reader after a crash rebuilds
    it); the data is in the database file and its -wal. The same files must exist."""
    return {n: (size, 0) if n.endswith("-shm") else (size, t) for n, (size, t) in states.items()}


def test_audit_of_a_clean_store_finds_nothing_and_checks_everything(store):
    shop_cleanly(store)
    integrity = audit(databases(store))
    assert integrity.clean
    assert found(integrity) == {}
    assert integrity.checked == [check.name for check in CHECKS]
    assert set(integrity.violations) == set(KINDS)
    assert set(integrity.notices) == set(NOTICES)
    assert integrity.in_flight == [] and integrity.examples == {}


def test_audit_of_a_stopped_store_writes_nothing_and_creates_no_file(store):
    shop_cleanly(store)
    store.close()  # the last connections go: SQLite folds the WAL into the files
    run = Path(store.settings.run_dir)
    before = file_states(run)
    assert not [name for name in before if name.endswith(("-wal", "-shm"))]
    assert audit(databases(store)).clean
    assert file_states(run) == before


def test_audit_of_a_running_store_reads_its_wal_and_writes_nothing(store):
    orders = shop_cleanly(store)
    rows = everything(store)  # every service's app built: each holds its database open
    run = Path(store.settings.run_dir)
    before = file_states(run)
    assert "payment.db-wal" in before
    integrity = audit(databases(store))
    assert integrity.clean
    assert data_files(file_states(run)) == data_files(before)
    assert everything(store) == rows
    with store.ctx("payment").db.read() as conn:  # what it read includes what only the WAL has
        assert {c.reference for c in conn.execute(sa.select(charges))} == set(orders)


def test_audit_reads_the_wal_a_killed_writer_left(store, tmp_path):
    """A store killed mid-run leaves committed rows only in the -wal: they must be audited."""
    shop_cleanly(store)
    store.close()
    payment = Path(store.settings.run_dir) / "payment.db"
    writer = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL')\n"
        "c.execute(\"INSERT INTO payment_charges VALUES ('ch_ghost', 'auth_ghost', 999, "
        "'ord_nobody', 1.0)\"); c.commit()\n"
        "os._exit(0)  # killed: no checkpoint, the -wal stays\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(payment)], check=True)
    before = file_states(payment.parent)
    assert before["payment.db-wal"][0] > 0
    integrity = audit(databases(store))
    assert found(integrity) == {"charge_without_order": 1, "unaccounted_charge": 1}
    [example] = integrity.examples["charge_without_order"]
    assert example["charge_id"] == "ch_ghost" and example["amount_cents"] == 999
    assert data_files(file_states(payment.parent)) == data_files(before)


def test_readonly_connections_refuse_to_write(store):
    store.close()
    with readonly(databases(store)["payment"]) as conn, pytest.raises(sa.exc.OperationalError):
        conn.execute(charges.delete())


def test_audit_names_the_service_whose_database_is_missing(store, tmp_path):
    urls = databases(store) | {"payment": f"sqlite:///{tmp_path / 'nowhere' / 'payment.db'}"}
    with pytest.raises(AuditError, match=r"^payment: no database file at .*nowhere"):
        audit(urls)
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(AuditError, match="^cart: the audit reads SQLite or PostgreSQL"):
        audit(databases(store) | {"cart": "mysql://db/cart"})


def test_audit_skips_the_checks_of_a_service_it_was_not_told_about(store):
    shop_cleanly(store)
    integrity = audit(databases(store) | {"payment": None})
    skipped = {"charges", "ledger", "authorizations"}
    assert integrity.checked == [c.name for c in CHECKS if c.name not in skipped]
    assert "duplicate_charge" not in integrity.violations
    assert integrity.clean


def test_every_kind_is_counted_by_exactly_one_check_that_reads_real_tables():
    counted = [kind for check in CHECKS for kind in check.kinds]
    assert sorted(counted) == sorted([*KINDS, *NOTICES])
    read = {source.table.name for source in SOURCES}
    for check in CHECKS:
        assert set(check.tables) <= read, check.name
    for kind, meaning in {**KINDS, **NOTICES}.items():
        assert kind.islower() and " " not in kind
        assert meaning and "\n" not in meaning


def test_findings_keep_five_examples_but_count_all():
    tally = Findings(100.0, expiry_grace_s=5.0, takeover_bound_s=10.0)
    tally.checking(["oversold"])
    for i in range(8):
        tally.add("oversold", {"sku": f"SKU-{i}"})
    assert tally.counts == {"oversold": 8}
    assert [e["sku"] for e in tally.examples["oversold"]] == [f"SKU-{i}" for i in range(5)]
    with pytest.raises(KeyError):
        tally.checking(["no_such_kind"])
