"""Recording what a counter counted: one stock key per line, with the ledger's quantity of
that key at that very moment (`book_qty_at_count`). Nothing about the book goes back to the
counter: the answer is the line id and the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso
from edge_server.wms import labor
from edge_server.wms.counting.tasks import get_task, held_task
from edge_server.wms.items import find_by_gtin
from edge_server.wms.ledger import Actor, StockKey, on_hand
from protocols.barcodes import ScanKind, parse_scan
from protocols.errors import ErrorCode

__all__ = ["CountedLine", "record_line"]


@dataclass(frozen=True, slots=True)
class CountedLine:
    """What the counter sends for one key (API body, already shape-checked)."""

    location: str
    qty: int
    sku: str | None = None
    gtin: str | None = None
    scan: str | None = None
    lot: str | None = None
    expiry: str | None = None
    lpn: str | None = None
    status: str = "available"


def _resolve_item(w: SUDatabase, line: CountedLine) -> tuple[int, int, str | None, str | None]:
    """(item id, units per scanned unit, lot from the scan, expiry from the scan)."""
    lot: str | None = None
    expiry: str | None = None
    gtin = line.gtin
    if line.scan:
        scan = parse_scan(line.scan, expect={ScanKind.ITEM})
        gtin = scan.gtin
        lot = scan.lot
        expiry = scan.expiry.isoformat() if scan.expiry else None
    if gtin:
        match = find_by_gtin(w, gtin)
        if match is None:
            raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"gtin": gtin})
        if line.sku and line.sku != match.item.sku:
            raise AislewayError(
                ErrorCode.VALIDATION_FAILED,
                text="The scanned item and the SKU sent do not match.",
                details={"sku": line.sku, "scanned_sku": match.item.sku},
            )
        return match.item.id, match.qty, lot, expiry
    if not line.sku:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="Scan the item or send its SKU.",
            details={"missing": "sku"},
        )
    row = w.execute("SELECT id FROM items WHERE sku = ?", [line.sku]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": line.sku})
    return int(row[0]), 1, None, None


def record_line(
    w: SUDatabase,
    settings: Settings,
    task_id: int,
    line: CountedLine,
    actor: Actor,
) -> dict[str, Any]:
    """Record one counted key of a task the caller holds. Counting the same key again in the
    same task replaces the earlier line (the latest count of a key wins)."""
    site = settings.site
    t = held_task(w, site, task_id, actor.user_id)
    loc = w.execute(
        "SELECT l.id FROM locations l JOIN count_task_bins b ON b.location_id = l.id "
        "WHERE b.task_id = ? AND l.code = ?",
        [task_id, line.location],
    ).fetchone()
    if loc is None:
        known = w.execute(
            "SELECT 1 FROM locations l JOIN sites s ON s.id = l.site_id "
            "WHERE s.code = ? AND l.code = ?",
            [site, line.location],
        ).fetchone()
        code = ErrorCode.COUNT_BIN_NOT_IN_TASK if known else ErrorCode.UNKNOWN_LOCATION
        raise AislewayError(code, details={"location": line.location})
    location_id = int(loc[0])
    item_id, per_unit, scan_lot, scan_expiry = _resolve_item(w, line)
    if t["kind"] == "item" and item_id != t["item_id"]:
        raise AislewayError(ErrorCode.COUNT_ITEM_NOT_IN_TASK, details={"task_id": task_id})
    lot = (line.lot or scan_lot or "").strip()
    if line.lot and scan_lot and line.lot != scan_lot:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="The lot typed and the lot scanned differ.",
            details={"lot": line.lot, "scanned_lot": scan_lot},
        )
    lpn = (line.lpn or "").strip()
    if t["kind"] == "lpn" and lpn != t["lpn"]:
        raise AislewayError(
            ErrorCode.COUNT_LPN_NOT_IN_TASK, details={"task_id": task_id, "lpn": lpn}
        )
    lot_tracked = w.execute("SELECT lot_tracked FROM items WHERE id = ?", [item_id]).fetchone()[0]
    if lot_tracked and not lot:
        raise AislewayError(ErrorCode.LOT_REQUIRED)
    qty = line.qty * per_unit
    key = StockKey(location_id, item_id, lot, lpn, line.status)
    book = on_hand(w, key)
    previous = w.execute(
        "SELECT location_id FROM count_lines WHERE task_id = ? AND counted_by IS ? "
        "ORDER BY id DESC LIMIT 1",
        [task_id, actor.user_id],
    ).fetchone()
    w.execute(
        "UPDATE count_lines SET status = 'replaced' WHERE task_id = ? AND status = 'counted' "
        "AND location_id = ? AND item_id = ? AND lot = ? AND lpn = ? AND stock_status = ?",
        [task_id, location_id, item_id, lot, lpn, line.status],
    )
    cur = w.execute(
        "INSERT INTO count_lines (task_id, location_id, item_id, lot, expiry, lpn, stock_status, "
        "counted_qty, book_qty_at_count, counted_by, device_id, counted_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            task_id,
            location_id,
            item_id,
            lot,
            line.expiry or scan_expiry,
            lpn,
            line.status,
            qty,
            book,
            actor.user_id,
            actor.device_id,
            iso(),
        ],
    )
    ref = f"count-{task_id}"
    if previous is None or previous[0] != location_id:
        # The first line in a bin proves the counter got there (travel before it).
        labor.record(w, settings, task_type="count", task_ref=ref, actor=actor, step="arrive")
    labor.record(
        w, settings, task_type="count", task_ref=ref, actor=actor, step="handle", units=qty, lines=1
    )
    return {"line_id": int(cur.lastrowid or 0), "task": get_task(w, site, task_id)}
