"""Upgrades: a database made by an older release (only the migrations that existed then) keeps
its data through `aisleway edge init`, and the ledger still balances afterwards."""

from __future__ import annotations

import pytest
from sqlite_utils.migrations import Migrations

from edge_server.cli import main
from edge_server.db import Database
from edge_server.db.migrations import migrations as edge_migrations
from edge_server.integration.outbox import emit
from edge_server.wms.ledger import StockKey, check_ledger, move, receive

from factories import make_item, make_site


def migrations_up_to(last: str) -> Migrations:
    """The edge's migration set as it was when `last` was the newest migration."""
    names = [m.name for m in edge_migrations._migrations]
    assert last in names, f"no migration {last}"
    older = Migrations(edge_migrations.name)
    for m in edge_migrations._migrations[: names.index(last) + 1]:
        older(name=m.name, transactional=m.transactional)(m.fn)
    return older


def _snapshot(db: Database) -> dict[str, list[dict]]:
    return {
        "stock": db.query(
            "SELECT location_id, item_id, lot, lpn, status, qty FROM stock ORDER BY id"
        ),
        "movements": db.query("SELECT id, type, qty FROM movements ORDER BY id"),
        "items": db.query("SELECT id, sku FROM items ORDER BY id"),
        "locations": db.query("SELECT id, code, type FROM locations ORDER BY id"),
        "outbox": db.query("SELECT id, event_id, type FROM outbox ORDER BY id"),
    }


@pytest.mark.parametrize("previous", ["m060_waves_picking", "m085_returns", "m096_labor_standards"])
def test_upgrade_from_an_older_schema_keeps_data_and_the_ledger(tmp_path, previous, capsys):
    path = tmp_path / "site.db"
    older = migrations_up_to(previous)
    with Database(path) as db:
        applied = db.migrate(older)
        assert applied[-1] == previous
        bins = make_site(db)
        apple, pear = make_item(db, "APPLE"), make_item(db, "PEAR", lot_tracked=True)
        with db.write() as w:
            receive(w, StockKey(bins["DOCK-01"], apple), 40)
            receive(w, StockKey(bins["DOCK-01"], pear, lot="L1"), 12, expiry="2031-01-01")
            move(w, StockKey(bins["DOCK-01"], apple), bins["A01-01-1L"], 25)
            move(w, StockKey(bins["DOCK-01"], pear, lot="L1"), bins["A02-01-3R"], 12)
            emit(w, "stock.received", {"sku": "APPLE", "qty": 40})
        before = _snapshot(db)
        assert check_ledger(db).ok
    pending = [m.name for m in edge_migrations._migrations if m.name not in applied]
    assert pending, "nothing newer than the previous schema"

    assert main(["edge", "init", "--db", str(path)]) == 0
    assert main(["edge", "check", "--db", str(path)]) == 0
    capsys.readouterr()

    with Database(path) as db:
        assert db.migrate() == []  # everything applied, each once
        done = {r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")}
        assert set(pending) <= done
        assert _snapshot(db) == before
        report = check_ledger(db)
        assert report.ok, report.lines()
        # The upgraded database takes new work.
        with db.write() as w:
            move(w, StockKey(bins["A01-01-1L"], apple), bins["A01-02-1L"], 5)
        assert check_ledger(db).ok
