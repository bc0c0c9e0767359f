"""Ledger write throughput against the floor: one durable SQLite commit.

Ours: a full ledger command per transaction (conditional stock update, upsert, movement row,
outbox event) through the single-writer `Database`, WAL + synchronous=FULL.
Baseline: one bare INSERT per transaction on the same file settings — what any durable
per-command design pays at minimum. The ratio says what the ledger's bookkeeping costs.
Also: `edge check` over the resulting ledger.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from edge_server.db import Database
from edge_server.wms import inventory
from edge_server.wms.ledger import Actor, check_ledger
from protocols.inventory import MoveIn, ReceiptIn

from factories import make_item, make_site

N = 2000


def baseline(path: Path) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    start = time.perf_counter()
    for i in range(N):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", [i])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def ours(path: Path) -> tuple[float, Database]:
    db = Database(path)
    db.migrate()
    make_site(db)
    make_item(db, "SKU-1")
    actor = Actor()
    start = time.perf_counter()
    for i in range(N // 2):
        with db.write() as w:
            inventory.receive(w, "CHI", ReceiptIn(location="DOCK-01", sku="SKU-1", qty=2), actor)
        with db.write() as w:
            target = "A01-01-1L" if i % 2 else "A01-02-1L"
            inventory.move(
                w,
                "CHI",
                MoveIn(from_location="DOCK-01", to_location=target, sku="SKU-1", qty=1),
                actor,
            )
    return time.perf_counter() - start, db


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(Path(tmp) / "base.db")
        mine, db = ours(Path(tmp) / "ledger.db")
        start = time.perf_counter()
        report = check_ledger(db)
        check_time = time.perf_counter() - start
        db.close()
    print(f"durable commits, {N} each (WAL, synchronous=FULL)")
    print(f"  baseline bare insert : {N / base:8.0f} commits/s  ({base / N * 1e3:.3f} ms each)")
    print(f"  ledger command+event : {N / mine:8.0f} commits/s  ({mine / N * 1e3:.3f} ms each)")
    print(f"  ratio ledger/baseline time: {mine / base:.2f}x")
    print(
        f"edge check over {report.movements} movements: {check_time * 1e3:.1f} ms, ok={report.ok}"
    )


if __name__ == "__main__":
    main()
