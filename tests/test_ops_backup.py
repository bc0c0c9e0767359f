"""Backup and restore of a site database (edge_server/ops/backup.py, `aisleway edge backup` and
`aisleway edge restore`): a live snapshot, a checked restore, and refusals that change nothing."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from edge_server.cli import main
from edge_server.db import Database
from edge_server.ops.backup import BackupError, backup, in_use, restore
from edge_server.services import Services
from edge_server.wms.ledger import StockKey, check_ledger, move, receive

from factories import make_item, make_site


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stocked(services: Services) -> tuple[dict[str, int], int]:
    bins = make_site(services.db)
    item = make_item(services.db, "SKU-1")
    with services.db.write() as w:
        receive(w, StockKey(bins["A01-01-1L"], item), 1000)
    return bins, item


def _last_movement(db: Database) -> int:
    row = db.query_one("SELECT MAX(id) AS id FROM movements")
    assert row is not None
    return int(row["id"])


def test_backup_while_another_thread_writes_is_a_consistent_snapshot(services, tmp_path):
    bins, item = _stocked(services)
    a, b = bins["A01-01-1L"], bins["A01-02-1L"]
    stop = threading.Event()
    written = threading.Event()
    moves = 0

    def writer() -> None:
        nonlocal moves
        src, dst = a, b
        while not stop.is_set():
            with services.db.write() as w:
                move(w, StockKey(src, item), dst, 1)
            moves += 1
            if moves >= 20:
                written.set()
            if moves % 50 == 0:
                src, dst = dst, src

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        assert written.wait(30)
        infos = [backup(services.settings.db_path, tmp_path / f"b{i}.db") for i in range(3)]
    finally:
        stop.set()
        thread.join(30)
    assert moves > 20
    for info in infos:
        assert info.size_bytes == info.path.stat().st_size > 0
        assert not Path(f"{info.path}-wal").exists()
        with Database(info.path) as copy:
            report = check_ledger(copy)
            assert report.ok, report.lines()
            assert _last_movement(copy) == info.last_movement_id
            total = copy.query_one("SELECT SUM(qty) AS q FROM stock WHERE item_id = ?", [item])
            assert total == {"q": 1000}
    # Later snapshots see at least as much as earlier ones, and the live database moved on.
    ids = [info.last_movement_id or 0 for info in infos]
    assert ids == sorted(ids)
    assert _last_movement(services.db) >= ids[-1]


def test_cli_backup_then_restore_into_a_new_path_passes_check(services, tmp_path, capsys):
    _stocked(services)
    db_path = services.settings.db_path
    last = _last_movement(services.db)
    out = tmp_path / "site-backup.db"
    assert main(["edge", "backup", "--db", str(db_path), "--to", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{out.stat().st_size} bytes" in printed
    assert f"last movement id: {last}" in printed

    new = tmp_path / "restored" / "site.db"
    new.parent.mkdir()
    assert main(["edge", "restore", "--from", str(out), "--db", str(new)]) == 0
    assert f"last movement id: {last}" in capsys.readouterr().out
    assert main(["edge", "check", "--db", str(new)]) == 0
    with Database(new) as restored:
        assert _last_movement(restored) == last


def _corrupt_copy(good: Path, to: Path) -> Path:
    data = bytearray(good.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : len(data) - page] = b"\xa5" * (len(data) - 3 * page)
    to.write_bytes(bytes(data))
    return to


@pytest.fixture
def good_backup(services, tmp_path) -> Path:
    _stocked(services)
    return backup(services.settings.db_path, tmp_path / "good.db").path


def test_restore_refuses_bad_backups_and_changes_nothing(services, good_backup, tmp_path, capsys):
    target = tmp_path / "target.db"
    restore(good_backup, target)
    before = _digest(target)
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    cases = {
        tmp_path / "missing.db": "does not exist",
        text: "is not a SQLite database",
        _corrupt_copy(good_backup, tmp_path / "corrupt.db"): "SQLite database",
        plain: "not an Aisleway site database",
    }
    for bad, reason in cases.items():
        code = main(["edge", "restore", "--from", str(bad), "--db", str(target), "--force"])
        err = capsys.readouterr().err
        assert code == 2, bad
        assert err.startswith("error: ") and reason in err, err
        assert _digest(target) == before
        assert sorted(p.name for p in tmp_path.glob(".target*")) == []


def test_restore_refuses_a_backup_that_fails_the_ledger_check(services, good_backup, tmp_path):
    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(good_backup.read_bytes())
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE stock SET qty = qty + 5")
    conn.close()
    target = tmp_path / "new.db"
    with pytest.raises(BackupError, match="fails the ledger check"):
        restore(tampered, target)
    assert not target.exists()


def test_restore_refuses_a_database_in_use_or_existing(services, good_backup, tmp_path, capsys):
    live = services.settings.db_path
    before = _digest(live)
    assert in_use(live)
    for extra in ([], ["--force"]):
        code = main(["edge", "restore", "--from", str(good_backup), "--db", str(live), *extra])
        assert code == 2
        assert "is in use; stop the edge server" in capsys.readouterr().err
    assert _digest(live) == before

    stopped = tmp_path / "stopped.db"
    restore(good_backup, stopped)
    backed_up_last = _last_movement(services.db)
    with Database(stopped) as db:
        row = db.query_one("SELECT location_id, item_id FROM stock LIMIT 1")
        assert row is not None
        with db.write() as w:
            receive(w, StockKey(row["location_id"], row["item_id"]), 5)
        assert _last_movement(db) == backed_up_last + 1
    assert not in_use(stopped)
    before = _digest(stopped)
    assert main(["edge", "restore", "--from", str(good_backup), "--db", str(stopped)]) == 2
    assert "already exists (use --force" in capsys.readouterr().err
    assert _digest(stopped) == before
    assert (
        main(["edge", "restore", "--from", str(good_backup), "--db", str(stopped), "--force"]) == 0
    )
    with Database(stopped) as db:
        assert _last_movement(db) == backed_up_last
        assert check_ledger(db).ok


def test_backup_refuses_bad_inputs_and_writes_nothing(services, tmp_path, capsys):
    _stocked(services)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    out = tmp_path / "out.db"
    for db, reason in ((tmp_path / "nope.db", "does not exist"), (text, "not a SQLite")):
        assert main(["edge", "backup", "--db", str(db), "--to", str(out)]) == 2
        assert reason in capsys.readouterr().err
        assert not out.exists()
    assert not (tmp_path / "nope.db").exists()
    db_path = str(services.settings.db_path)
    missing_dir = tmp_path / "no-such-folder" / "b.db"
    assert main(["edge", "backup", "--db", db_path, "--to", str(missing_dir)]) == 2
    assert "does not exist" in capsys.readouterr().err
    out.write_text("keep me")
    assert main(["edge", "backup", "--db", db_path, "--to", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    assert main(["edge", "backup", "--db", db_path, "--to", str(out), "--force"]) == 0
    with Database(out) as copy:
        assert check_ledger(copy).ok
