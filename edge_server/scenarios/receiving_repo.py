"""The receiving scenario's tables, read and written inside the caller's write transaction.

Purchase orders and ASNs are read straight from their tables (`m010_purchase_orders`) so the
scenario does not depend on the PO/ASN API; receiving sessions, receipt lines, discrepancies
and overrides are its own (`m020_receiving`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.timeutil import iso

Row = dict[str, Any]
Source = Database | SUDatabase

#: The `meta` key of the last LPN serial handed out (shared with label printing).
LPN_SERIAL_KEY = "lpn_serial"


def rows(w: Source, sql: str, params: Any = ()) -> list[Row]:
    if isinstance(w, Database):
        return w.query(sql, params)
    cur = w.execute(sql, list(params))
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(w: Source, sql: str, params: Any = ()) -> Row | None:
    found = rows(w, sql, params)
    return found[0] if found else None


def json_loads(text: str | None) -> Any:
    return json.loads(text) if text else None


# -- documents ---------------------------------------------------------------------------------
def site_id(w: SUDatabase, site: str) -> int | None:
    row = one(w, "SELECT id FROM sites WHERE code = ?", [site])
    return int(row["id"]) if row else None


def po_by_number(w: SUDatabase, site_id: int, number: str) -> Row | None:
    return one(
        w, "SELECT * FROM purchase_orders WHERE site_id = ? AND number = ?", [site_id, number]
    )


def po_by_id(w: Source, po_id: int) -> Row:
    row = one(w, "SELECT * FROM purchase_orders WHERE id = ?", [po_id])
    assert row is not None
    return row


def asn_by_number(w: SUDatabase, site_id: int, number: str) -> Row | None:
    return one(w, "SELECT * FROM asns WHERE site_id = ? AND number = ?", [site_id, number])


def asn_by_id(w: Source, asn_id: int) -> Row | None:
    return one(w, "SELECT * FROM asns WHERE id = ?", [asn_id])


def sscc_lines(w: SUDatabase, site_id: int, sscc: str) -> list[Row]:
    """Lines of non-cancelled ASNs at this site that travel on the pallet `sscc`."""
    return rows(
        w,
        "SELECT al.*, a.number AS asn_number, a.po_id, a.status AS asn_status, i.sku "
        "FROM asn_lines al JOIN asns a ON a.id = al.asn_id JOIN items i ON i.id = al.item_id "
        "WHERE a.site_id = ? AND al.sscc = ? AND a.status != 'cancelled' ORDER BY al.id",
        [site_id, sscc],
    )


def po_lines(w: Source, po_id: int) -> list[Row]:
    return rows(
        w,
        "SELECT pl.*, i.sku, i.description FROM po_lines pl JOIN items i ON i.id = pl.item_id "
        "WHERE pl.po_id = ? ORDER BY pl.line_no",
        [po_id],
    )


def expected_lots(
    w: SUDatabase, po_line_id: int | None, asn_id: int | None, item_id: int
) -> set[str]:
    """Lots the PO line (`expected_lots_json`: strings or `{"lot": …}`) and the session's ASN
    announce for the item; empty when nobody said which lots to expect."""
    lots: set[str] = set()
    if po_line_id is not None:
        row = one(w, "SELECT expected_lots_json FROM po_lines WHERE id = ?", [po_line_id])
        try:
            listed = json.loads(row["expected_lots_json"]) if row else []
        except ValueError:
            listed = []
        for entry in listed if isinstance(listed, list) else []:
            lot = entry.get("lot") if isinstance(entry, dict) else entry
            if isinstance(lot, str) and lot:
                lots.add(lot)
    if asn_id is not None:
        for r in rows(
            w,
            "SELECT lot FROM asn_lines WHERE asn_id = ? AND item_id = ? AND lot != ''",
            [asn_id, item_id],
        ):
            lots.add(r["lot"])
    return lots


def add_received(w: SUDatabase, po_line_id: int, qty: int) -> Row:
    """Add `qty` eaches to a PO line and set its status from the new total."""
    w.execute(
        "UPDATE po_lines SET qty_received = qty_received + ?, status = CASE "
        "WHEN qty_received + ? > qty_expected THEN 'over' "
        "WHEN qty_received + ? = qty_expected THEN 'complete' ELSE 'partial' END WHERE id = ?",
        [qty, qty, qty, po_line_id],
    )
    row = one(w, "SELECT * FROM po_lines WHERE id = ?", [po_line_id])
    assert row is not None
    return row


def mark_po(w: SUDatabase, po_id: int, status: str) -> None:
    closed = iso() if status == "closed" else None
    w.execute(
        "UPDATE purchase_orders SET status = ?, updated_at = ?, closed_at = COALESCE(?, closed_at) "
        "WHERE id = ?",
        [status, iso(), closed, po_id],
    )


def mark_asn(w: SUDatabase, asn_id: int, status: str) -> None:
    w.execute("UPDATE asns SET status = ?, updated_at = ? WHERE id = ?", [status, iso(), asn_id])


def mark_asn_line_received(w: SUDatabase, asn_line_id: int) -> None:
    w.execute("UPDATE asn_lines SET received_at = ? WHERE id = ?", [iso(), asn_line_id])


# -- docks and LPNs ----------------------------------------------------------------------------
def dock(w: SUDatabase, site_id: int, code: str | None) -> Row | None:
    """The named location, or the site's first active receiving dock."""
    if code:
        return one(
            w,
            "SELECT * FROM locations WHERE site_id = ? AND code = ? AND active = 1",
            [site_id, code],
        )
    return one(
        w,
        "SELECT * FROM locations WHERE site_id = ? AND type = 'receiving_dock' AND active = 1 "
        "ORDER BY code LIMIT 1",
        [site_id],
    )


def next_lpn_serial(w: SUDatabase) -> int:
    w.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, '0')", [LPN_SERIAL_KEY])
    row = w.execute(
        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = ? RETURNING value",
        [LPN_SERIAL_KEY],
    ).fetchone()
    return int(row[0])


def lpn_used_elsewhere(w: SUDatabase, lpn: str, session_id: int, dock_id: int) -> bool:
    """True when stock on `lpn` exists anywhere but on this session's own pallets in its dock."""
    row = w.execute(
        "SELECT 1 FROM stock WHERE lpn = ? AND NOT (location_id = ? AND EXISTS ("
        "SELECT 1 FROM receipt_lines WHERE session_id = ? AND lpn = ?)) LIMIT 1",
        [lpn, dock_id, session_id, lpn],
    ).fetchone()
    return row is not None


def lpn_stock_exists(w: SUDatabase, lpn: str) -> bool:
    return w.execute("SELECT 1 FROM stock WHERE lpn = ? LIMIT 1", [lpn]).fetchone() is not None


# -- sessions ----------------------------------------------------------------------------------
def create_session(w: SUDatabase, **values: Any) -> int:
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cur = w.execute(
        f"INSERT INTO receiving_sessions ({cols}, started_at) VALUES ({marks}, ?)",
        [*values.values(), iso()],
    )
    return int(cur.lastrowid or 0)


def session(w: Source, session_id: int) -> Row | None:
    return one(w, "SELECT * FROM receiving_sessions WHERE id = ?", [session_id])


def save_session(
    w: SUDatabase, session_id: int, state: str, pending: dict[str, Any] | None
) -> None:
    w.execute(
        "UPDATE receiving_sessions SET state = ?, pending_json = ? WHERE id = ?",
        [state, json.dumps(pending) if pending is not None else None, session_id],
    )


def close_session(
    w: SUDatabase, session_id: int, user_id: int | None, summary: dict[str, Any]
) -> None:
    w.execute(
        "UPDATE receiving_sessions SET status = 'closed', state = 'done', pending_json = NULL, "
        "closed_at = ?, closed_by = ?, summary_json = ? WHERE id = ?",
        [iso(), user_id, json.dumps(summary), session_id],
    )


def other_open_sessions(w: SUDatabase, po_id: int, session_id: int) -> int:
    row = w.execute(
        "SELECT COUNT(*) FROM receiving_sessions WHERE po_id = ? AND status = 'open' AND id != ?",
        [po_id, session_id],
    ).fetchone()
    return int(row[0])


# -- receipts, discrepancies, overrides --------------------------------------------------------
def insert_receipt_line(w: SUDatabase, **values: Any) -> int:
    cols = ", ".join(values)
    marks = ", ".join("?" * len(values))
    cur = w.execute(
        f"INSERT INTO receipt_lines ({cols}, received_at) VALUES ({marks}, ?)",
        [*values.values(), iso()],
    )
    return int(cur.lastrowid or 0)


def insert_discrepancy(
    w: SUDatabase,
    *,
    session_id: int,
    item_id: int,
    reason: str,
    qty: int,
    user_id: int | None,
    receipt_line_id: int | None = None,
    po_line_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    w.execute(
        "INSERT INTO receiving_discrepancies (session_id, receipt_line_id, po_line_id, item_id, "
        "reason, qty, details_json, user_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            session_id,
            receipt_line_id,
            po_line_id,
            item_id,
            reason,
            qty,
            json.dumps(details or {}),
            user_id,
            iso(),
        ],
    )


def insert_override(
    w: SUDatabase,
    *,
    session_id: int,
    reasons: list[str],
    details: dict[str, Any],
    approved_by: int,
    method: str,
    note: str = "",
) -> int:
    cur = w.execute(
        "INSERT INTO receiving_overrides (session_id, reasons, details_json, approved_by, method, "
        "note, approved_at) VALUES (?,?,?,?,?,?,?)",
        [session_id, ",".join(reasons), json.dumps(details), approved_by, method, note, iso()],
    )
    return int(cur.lastrowid or 0)


def session_receipts(w: Source, session_id: int) -> list[Row]:
    return rows(
        w,
        "SELECT r.*, i.sku FROM receipt_lines r JOIN items i ON i.id = r.item_id "
        "WHERE r.session_id = ? ORDER BY r.id",
        [session_id],
    )


def session_discrepancies(w: Source, session_id: int) -> list[Row]:
    return rows(
        w,
        "SELECT d.reason, d.qty, d.po_line_id, i.sku FROM receiving_discrepancies d "
        "JOIN items i ON i.id = d.item_id WHERE d.session_id = ? ORDER BY d.id",
        [session_id],
    )


# -- the accuracy KPI --------------------------------------------------------------------------
def accuracy_rows(db: Database, day_from: str, day_to: str, receiver: str | None) -> list[Row]:
    """Per UTC day and receiver: lines counted and lines accurate (see docs/receiving.md)."""
    where_user = "AND u.badge = ?" if receiver else ""
    extra = [receiver] if receiver else []
    sql = f"""
        WITH counted AS (
            SELECT substr(r.received_at, 1, 10) AS day, r.user_id,
                   CASE WHEN r.po_line_id IS NOT NULL AND r.reasons = '' AND r.corrected = 0
                        AND r.override_id IS NULL THEN 1 ELSE 0 END AS accurate
            FROM receipt_lines r
            UNION ALL
            SELECT substr(d.created_at, 1, 10), d.user_id, 0
            FROM receiving_discrepancies d WHERE d.reason = 'short'
        )
        SELECT c.day, u.badge AS receiver, COUNT(*) AS lines, SUM(c.accurate) AS accurate
        FROM counted c LEFT JOIN users u ON u.id = c.user_id
        WHERE c.day BETWEEN ? AND ? {where_user}
        GROUP BY c.day, u.badge ORDER BY c.day, u.badge
    """
    return db.query(sql, [day_from, day_to, *extra])
