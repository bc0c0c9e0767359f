"""The inventory ledger: stock by location × item × lot × LPN × status, changed only by
appending movements in the same transaction.

Every function taking `w` runs inside the caller's write transaction (`with db.write() as w`)
so a movement, its stock changes and any outbox event commit together or not at all.
Decrements are single conditional UPDATEs (`qty >= ?`), so stock can never go negative even
if a caller forgot to check; the CHECK constraint on `stock.qty` is the last line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.db.migrations import MOVEMENT_TYPES, STOCK_STATUSES
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

MAX_QTY = 10_000_000


@dataclass(frozen=True, slots=True)
class StockKey:
    location_id: int
    item_id: int
    lot: str = ""
    lpn: str = ""
    status: str = "available"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a movement (for audit and labor), and when the handheld scanned it.

    `scanned_at` (ISO 8601 UTC) is the handheld's own scan time from `X-Scanned-At`: a scan
    queued in a Wi-Fi dead zone and replayed later is timed when it happened (labor uses it;
    the ledger's movement time stays the server's commit time)."""

    user_id: int | None = None
    device_id: int | None = None
    scanned_at: str | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    id: int
    type: str
    item_id: int
    qty: int
    source: StockKey | None
    target: StockKey | None


def _check_qty(qty: object) -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0 or qty > MAX_QTY:
        raise AislewayError(ErrorCode.QUANTITY_INVALID, details={"qty": qty})
    return qty


def allocated_on(w: SUDatabase, key: StockKey) -> int:
    """What fulfillment orders have reserved on a stock key (only available stock is)."""
    if key.status != "available":
        return 0
    row = w.execute(
        "SELECT COALESCE(SUM(qty), 0) FROM allocations "
        "WHERE location_id = ? AND item_id = ? AND lot = ? AND lpn = ?",
        [key.location_id, key.item_id, key.lot, key.lpn],
    ).fetchone()
    return int(row[0])


def _check_unallocated(w: SUDatabase, key: StockKey, qty: int) -> None:
    """Refuse taking stock that orders have reserved (picking releases its allocation first;
    the `stock_keeps_allocations` trigger is the last line of defence)."""
    allocated = allocated_on(w, key)
    if not allocated:
        return
    row = w.execute(
        "SELECT qty FROM stock WHERE location_id = ? AND item_id = ? AND lot = ? "
        "AND lpn = ? AND status = ?",
        [key.location_id, key.item_id, key.lot, key.lpn, key.status],
    ).fetchone()
    on_hand = int(row[0]) if row else 0
    if qty <= on_hand and on_hand - qty < allocated:
        raise AislewayError(
            ErrorCode.STOCK_ALLOCATED,
            details={
                "requested": qty,
                "on_hand": on_hand,
                "allocated": allocated,
                "free": max(on_hand - allocated, 0),
            },
        )


def _take(w: SUDatabase, key: StockKey, qty: int) -> None:
    _check_unallocated(w, key, qty)
    cur = w.execute(
        "UPDATE stock SET qty = qty - ?, updated_at = ? "
        "WHERE location_id = ? AND item_id = ? AND lot = ? AND lpn = ? AND status = ? "
        "AND qty >= ?",
        [qty, iso(), key.location_id, key.item_id, key.lot, key.lpn, key.status, qty],
    )
    if cur.rowcount != 1:
        row = w.execute(
            "SELECT qty FROM stock WHERE location_id = ? AND item_id = ? AND lot = ? "
            "AND lpn = ? AND status = ?",
            [key.location_id, key.item_id, key.lot, key.lpn, key.status],
        ).fetchone()
        raise AislewayError(
            ErrorCode.INSUFFICIENT_STOCK,
            details={"requested": qty, "on_hand": row[0] if row else 0},
        )
    w.execute(
        "DELETE FROM stock WHERE location_id = ? AND item_id = ? AND lot = ? AND lpn = ? "
        "AND status = ? AND qty = 0",
        [key.location_id, key.item_id, key.lot, key.lpn, key.status],
    )


def _put(w: SUDatabase, key: StockKey, qty: int) -> None:
    w.execute(
        "INSERT INTO stock (location_id, item_id, lot, lpn, status, qty, updated_at) "
        "VALUES (?,?,?,?,?,?,?) "
        "ON CONFLICT (location_id, item_id, lot, lpn, status) "
        "DO UPDATE SET qty = qty + excluded.qty, updated_at = excluded.updated_at",
        [key.location_id, key.item_id, key.lot, key.lpn, key.status, qty, iso()],
    )


def post(
    w: SUDatabase,
    movement_type: str,
    qty: int,
    *,
    source: StockKey | None = None,
    target: StockKey | None = None,
    reason: str = "",
    ref: str = "",
    actor: Actor = Actor(),
) -> Movement:
    """Append one movement and apply it to stock. `source` is taken from, `target` put to;
    a receipt has only a target, a shipment only a source."""
    if movement_type not in MOVEMENT_TYPES:
        raise ValueError(f"unknown movement type {movement_type!r}")
    qty = _check_qty(qty)
    if source is None and target is None:
        raise ValueError("a movement needs a source, a target or both")
    for key in (source, target):
        if key is not None and key.status not in STOCK_STATUSES:
            raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"status": key.status})
    if source and target:
        if source.item_id != target.item_id or source.lot != target.lot:
            raise ValueError("a movement keeps its item and lot")
        if source == target:
            raise AislewayError(ErrorCode.SAME_LOCATION)
    if source is not None:
        _take(w, source, qty)
    if target is not None:
        _put(w, target, qty)
    ref_key = source or target
    assert ref_key is not None
    cur = w.execute(
        "INSERT INTO movements (ts, type, item_id, lot, lpn, qty, from_location_id, "
        "from_status, to_location_id, to_status, to_lpn, reason, ref, user_id, device_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            iso(),
            movement_type,
            ref_key.item_id,
            ref_key.lot,
            source.lpn if source else target.lpn if target else "",
            qty,
            source.location_id if source else None,
            source.status if source else None,
            target.location_id if target else None,
            target.status if target else None,
            target.lpn if (source and target) else None,
            reason,
            ref,
            actor.user_id,
            actor.device_id,
        ],
    )
    return Movement(
        id=int(cur.lastrowid or 0),
        type=movement_type,
        item_id=ref_key.item_id,
        qty=qty,
        source=source,
        target=target,
    )


# -- the operations workflows call ----------------------------------------------------------
def receive(
    w: SUDatabase, key: StockKey, qty: int, *, expiry: str | None = None, **kw: Any
) -> Movement:
    """Stock arrives from outside (a receipt, a return, a found adjustment)."""
    _require_lot(w, key.item_id, key.lot)
    if key.lot:
        w.execute(
            "INSERT INTO lots (item_id, lot, expiry) VALUES (?,?,?) "
            "ON CONFLICT (item_id, lot) DO UPDATE SET expiry = COALESCE(lots.expiry, "
            "excluded.expiry)",
            [key.item_id, key.lot, expiry],
        )
    return post(w, kw.pop("movement_type", "receipt"), qty, target=key, **kw)


def move(
    w: SUDatabase,
    source: StockKey,
    to_location_id: int,
    qty: int,
    *,
    to_lpn: str | None = None,
    movement_type: str = "move",
    **kw: Any,
) -> Movement:
    """Move stock between locations, keeping status (and LPN unless `to_lpn` is given)."""
    target = StockKey(
        location_id=to_location_id,
        item_id=source.item_id,
        lot=source.lot,
        lpn=source.lpn if to_lpn is None else to_lpn,
        status=source.status,
    )
    return post(w, movement_type, qty, source=source, target=target, **kw)


def change_status(w: SUDatabase, source: StockKey, to_status: str, qty: int, **kw: Any) -> Movement:
    """Quarantine, damage or release stock where it lies."""
    target = StockKey(source.location_id, source.item_id, source.lot, source.lpn, to_status)
    return post(w, "status_change", qty, source=source, target=target, **kw)


def remove(w: SUDatabase, source: StockKey, qty: int, *, movement_type: str, **kw: Any) -> Movement:
    """Stock leaves the building or the books (shipment, negative adjustment, scrap)."""
    return post(w, movement_type, qty, source=source, **kw)


def adjust(w: SUDatabase, key: StockKey, delta: int, *, reason: str, **kw: Any) -> Movement:
    """A counted difference: positive finds stock, negative loses it. Needs a reason."""
    if not reason.strip():
        raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"reason": "required"})
    if delta > 0:
        return receive(w, key, delta, movement_type="adjustment", reason=reason, **kw)
    if delta < 0:
        return remove(w, key, -delta, movement_type="adjustment", reason=reason, **kw)
    raise AislewayError(ErrorCode.QUANTITY_INVALID, details={"delta": 0})


def _require_lot(w: SUDatabase, item_id: int, lot: str) -> None:
    row = w.execute("SELECT lot_tracked FROM items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"item_id": item_id})
    if row[0] and not lot:
        raise AislewayError(ErrorCode.LOT_REQUIRED)


def on_hand(db: Database | SUDatabase, key: StockKey) -> int:
    conn = db.read if isinstance(db, Database) else db
    row = conn.execute(
        "SELECT qty FROM stock WHERE location_id = ? AND item_id = ? AND lot = ? AND lpn = ? "
        "AND status = ?",
        [key.location_id, key.item_id, key.lot, key.lpn, key.status],
    ).fetchone()
    return int(row[0]) if row else 0


# -- the check -----------------------------------------------------------------------------
@dataclass
class LedgerReport:
    keys_checked: int = 0
    movements: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    integrity_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.integrity_errors

    def lines(self) -> Iterator[str]:
        for err in self.integrity_errors:
            yield f"integrity: {err}"
        for d in self.differences:
            yield (
                f"difference: location {d['location']} item {d['sku']} lot {d['lot'] or '-'} "
                f"lpn {d['lpn'] or '-'} {d['status']}: stock {d['stock']} != movements "
                f"{d['movements']}"
            )
        verdict = "OK" if self.ok else "FAILED"
        yield (
            f"{verdict}: {self.keys_checked} stock keys, {self.movements} movements, "
            f"{len(self.differences)} differences, {len(self.integrity_errors)} integrity errors"
        )


_CHECK_SQL = """
WITH flows AS (
    SELECT to_location_id AS location_id, item_id, lot, COALESCE(to_lpn, lpn) AS lpn,
           to_status AS status, qty
    FROM movements WHERE to_location_id IS NOT NULL
    UNION ALL
    SELECT from_location_id, item_id, lot, lpn, from_status, -qty
    FROM movements WHERE from_location_id IS NOT NULL
),
sums AS (
    SELECT location_id, item_id, lot, lpn, status, SUM(qty) AS qty
    FROM flows GROUP BY location_id, item_id, lot, lpn, status
),
joined AS (
    SELECT COALESCE(s.location_id, m.location_id) AS location_id,
           COALESCE(s.item_id, m.item_id) AS item_id,
           COALESCE(s.lot, m.lot) AS lot, COALESCE(s.lpn, m.lpn) AS lpn,
           COALESCE(s.status, m.status) AS status,
           COALESCE(s.qty, 0) AS stock, COALESCE(m.qty, 0) AS movements
    FROM stock s FULL OUTER JOIN sums m
      ON s.location_id = m.location_id AND s.item_id = m.item_id AND s.lot = m.lot
     AND s.lpn = m.lpn AND s.status = m.status
)
SELECT j.*, l.code AS location, i.sku
FROM joined j
LEFT JOIN locations l ON l.id = j.location_id
LEFT JOIN items i ON i.id = j.item_id
WHERE j.stock != j.movements
ORDER BY l.code, i.sku, j.lot, j.lpn, j.status
"""


def check_ledger(db: Database) -> LedgerReport:
    """stock == sum(movements) for every key, plus SQLite's integrity and FK checks.

    Runs on one read snapshot so a busy site can be checked while it works."""
    conn = db.read
    conn.execute("BEGIN")  # one snapshot for all the queries below
    try:
        report = LedgerReport(
            keys_checked=conn.execute("SELECT COUNT(*) FROM stock").fetchone()[0],
            movements=conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0],
        )
        report.differences = [dict(r) for r in conn.execute(_CHECK_SQL).fetchall()]
        report.integrity_errors = [
            r[0] for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"
        ]
        report.integrity_errors += [
            f"foreign key: {r[0]} row {r[1]} -> {r[2]}"
            for r in conn.execute("PRAGMA foreign_key_check").fetchall()
        ]
        negative = conn.execute("SELECT COUNT(*) FROM stock WHERE qty < 0").fetchone()[0]
        if negative:
            report.integrity_errors.append(f"{negative} stock rows below zero")
    finally:
        conn.execute("COMMIT")
    return report
