import sqlite3

import pytest

from edge_server.cli import main
from edge_server.errors import AislewayError
from edge_server.wms import ledger
from edge_server.wms.ledger import StockKey, check_ledger, on_hand

from factories import make_item, make_site


@pytest.fixture
def site(fresh_db):
    bins = make_site(fresh_db)
    item = make_item(fresh_db, "SKU-1")
    lotted = make_item(fresh_db, "SKU-LOT", lot_tracked=True)
    return fresh_db, bins, item, lotted


def snapshot(db):
    return (
        db.query("SELECT location_id, item_id, lot, lpn, status, qty FROM stock ORDER BY id"),
        db.query_one("SELECT COUNT(*) AS n FROM movements")["n"],
    )


def test_receive_move_pick_ship_keep_stock_equal_to_movements(site):
    db, bins, item, _ = site
    dock = StockKey(bins["DOCK-01"], item)
    with db.write() as w:
        ledger.receive(w, dock, 10, ref="PO-1")
        ledger.move(w, dock, bins["A01-01-1L"], 7, movement_type="putaway")
        ledger.move(
            w,
            StockKey(bins["A01-01-1L"], item),
            bins["PACK-01"],
            3,
            movement_type="pick",
            to_lpn="TOTE-1",
        )
        ledger.remove(w, StockKey(bins["PACK-01"], item, lpn="TOTE-1"), 3, movement_type="ship")
    assert on_hand(db, dock) == 3
    assert on_hand(db, StockKey(bins["A01-01-1L"], item)) == 4
    assert on_hand(db, StockKey(bins["PACK-01"], item, lpn="TOTE-1")) == 0
    report = check_ledger(db)
    assert report.ok, list(report.lines())
    assert report.movements == 4


def test_taking_more_than_on_hand_is_refused_and_changes_nothing(site):
    db, bins, item, _ = site
    with db.write() as w:
        ledger.receive(w, StockKey(bins["A01-01-1L"], item), 2)
    before = snapshot(db)
    with pytest.raises(AislewayError) as err, db.write() as w:
        ledger.move(w, StockKey(bins["A01-01-1L"], item), bins["PACK-01"], 3)
    assert err.value.code == "INSUFFICIENT_STOCK"
    assert err.value.details == {"requested": 3, "on_hand": 2}
    assert snapshot(db) == before


def test_a_failure_later_in_the_transaction_rolls_back_earlier_movements(site):
    db, bins, item, _ = site
    before = snapshot(db)
    with pytest.raises(AislewayError), db.write() as w:
        ledger.receive(w, StockKey(bins["A01-01-1L"], item), 5)
        ledger.remove(w, StockKey(bins["A01-01-1L"], item), 6, movement_type="ship")
    assert snapshot(db) == before


@pytest.mark.parametrize("qty", [0, -1, 1.5, True, "3", 10_000_001])
def test_bad_quantities_are_refused(site, qty):
    db, bins, item, _ = site
    with pytest.raises(AislewayError) as err, db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], item), qty)
    assert err.value.code == "QUANTITY_INVALID"
    assert snapshot(db) == ([], 0)


def test_lot_tracked_item_needs_a_lot_and_records_its_expiry(site):
    db, bins, _, lotted = site
    with pytest.raises(AislewayError) as err, db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], lotted), 5)
    assert err.value.code == "LOT_REQUIRED"
    with db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], lotted, lot="L1"), 5, expiry="2027-03-31")
    assert db.query_one("SELECT expiry FROM lots WHERE lot = 'L1'")["expiry"] == "2027-03-31"


def test_status_change_and_adjustment(site):
    db, bins, item, _ = site
    key = StockKey(bins["A01-01-1L"], item)
    with db.write() as w:
        ledger.receive(w, key, 10)
        ledger.change_status(w, key, "damaged", 2, reason="crushed")
        ledger.adjust(w, key, -1, reason="count")
        ledger.adjust(w, key, 4, reason="found")
    assert on_hand(db, key) == 11
    assert on_hand(db, StockKey(bins["A01-01-1L"], item, status="damaged")) == 2
    with pytest.raises(AislewayError), db.write() as w:
        ledger.adjust(w, key, 3, reason="  ")
    assert check_ledger(db).ok


def test_movements_are_append_only(site):
    db, bins, item, _ = site
    with db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], item), 1)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), db.write() as w:
        w.execute("UPDATE movements SET qty = 5")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), db.write() as w:
        w.execute("DELETE FROM movements")


def test_stock_cannot_go_negative_even_by_direct_sql(site):
    db, bins, item, _ = site
    with db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], item), 1)
    with pytest.raises(sqlite3.IntegrityError), db.write() as w:
        w.execute("UPDATE stock SET qty = -1")


def test_check_reports_a_tampered_stock_row(site):
    db, bins, item, _ = site
    with db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], item), 5)
        ledger.receive(w, StockKey(bins["A01-02-1L"], item), 2)
        # Tamper behind the ledger's back: one row changed, one row vanished.
        w.execute("UPDATE stock SET qty = 9 WHERE location_id = ?", [bins["DOCK-01"]])
        w.execute("DELETE FROM stock WHERE location_id = ?", [bins["A01-02-1L"]])
    report = check_ledger(db)
    assert not report.ok
    found = {(d["location"], d["stock"], d["movements"]) for d in report.differences}
    assert found == {("DOCK-01", 9, 5), ("A01-02-1L", 0, 2)}
    assert any("difference: location DOCK-01 item SKU-1" in line for line in report.lines())


def test_check_command_exit_codes(site, capsys):
    db, bins, item, _ = site
    with db.write() as w:
        ledger.receive(w, StockKey(bins["DOCK-01"], item), 5)
    assert main(["edge", "check", "--db", db.path]) == 0
    assert "OK: 1 stock keys, 1 movements" in capsys.readouterr().out
    with db.write() as w:
        w.execute("UPDATE stock SET qty = 4")
    assert main(["edge", "check", "--db", db.path]) == 1
    out = capsys.readouterr().out
    assert "stock 4 != movements 5" in out and "FAILED" in out
