"""Many threads moving, picking and shipping the same stock at once: never negative, nothing
lost, and every accepted operation is exactly one movement."""

import random
import threading

from edge_server.errors import AislewayError
from edge_server.wms import ledger
from edge_server.wms.ledger import StockKey, check_ledger

from factories import make_item, make_site

BINS = ["A01-01-1L", "A01-02-1L", "A02-01-3R"]


def test_concurrent_moves_and_picks_never_go_negative_or_lose_stock(fresh_db):
    db = fresh_db
    bins = make_site(db)
    item = make_item(db, "HOT-SKU")
    with db.write() as w:
        for b in BINS:
            ledger.receive(w, StockKey(bins[b], item), 50)
    accepted = {"move": 0, "pick": 0, "ship": 0}
    refused = [0]
    shipped = [0]
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(150):
            src = StockKey(bins[rng.choice(BINS)], item)
            qty = rng.randint(1, 12)
            op = rng.choice(["move", "move", "pick", "ship"])
            try:
                # Read-then-write races are the point: each thread decides on stale reads.
                with db.write() as w:
                    if op == "move":
                        dest = rng.choice([b for b in BINS if bins[b] != src.location_id])
                        ledger.move(w, src, bins[dest], qty)
                    elif op == "pick":
                        ledger.move(w, src, bins["PACK-01"], qty, movement_type="pick")
                    else:
                        ledger.remove(w, StockKey(bins["PACK-01"], item), qty, movement_type="ship")
            except AislewayError as exc:
                assert exc.code == "INSUFFICIENT_STOCK"
                with lock:
                    refused[0] += 1
                continue
            with lock:
                accepted[op] += 1
                if op == "ship":
                    shipped[0] += qty

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    total = db.query_one("SELECT SUM(qty) AS q FROM stock")["q"] or 0
    assert total + shipped[0] == 150, "stock was created or lost"
    assert db.query_one("SELECT COUNT(*) AS n FROM stock WHERE qty <= 0")["n"] == 0
    movements = db.query_one("SELECT COUNT(*) AS n FROM movements")["n"]
    assert movements == 3 + sum(accepted.values())
    assert sum(accepted.values()) + refused[0] == 8 * 150
    assert refused[0] > 0 and accepted["ship"] > 0  # the race was real
    report = check_ledger(db)
    assert report.ok, list(report.lines())


def test_readers_see_committed_state_while_a_writer_works(fresh_db):
    """WAL: a reader on another thread is never blocked by, nor sees half of, a write."""
    db = fresh_db
    bins = make_site(db)
    item = make_item(db, "SKU")
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            row = db.query_one("SELECT COALESCE(SUM(qty), 0) AS q FROM stock")
            seen.append(row["q"])

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(100):
            with db.write() as w:
                # Two halves of one transfer: a reader must never see only one of them.
                ledger.receive(w, StockKey(bins["DOCK-01"], item), 1)
                ledger.move(w, StockKey(bins["DOCK-01"], item), bins["A01-01-1L"], 1)
                ledger.receive(w, StockKey(bins["DOCK-01"], item), 1)
    finally:
        stop.set()
        t.join()
    assert seen and all(q % 2 == 0 for q in seen)
