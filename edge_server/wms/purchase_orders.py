"""Purchase orders: create or replace, cancel, read with receiving progress.

A PUT replaces the whole order. While an order is being received it may still grow (new
lines, higher quantities) and lines with nothing received may change or go, but a line never
drops below what was received, never loses its item once goods arrived, and is never removed
after a receipt. Removed lines are kept with status `cancelled` (ASN lines may point at them);
naming the line again revives it. `qty_received` and the receiving statuses belong to the
receiving scenario; this module only recomputes a line's status when its quantity changes,
with the same rule (`line_status`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms.items import load_items
from protocols.errors import ErrorCode
from protocols.inbound import PoLineIn

__all__ = [
    "CLOSED_STATUSES",
    "PO_CHANGED",
    "Outcome",
    "PlannedLine",
    "PoHeader",
    "PoIssue",
    "cancel_po",
    "fetch_rows",
    "get_po",
    "line_status",
    "list_pos",
    "plan_lines",
    "po_lines",
    "put_po",
    "site_id",
    "write_po",
]

PO_CHANGED = "purchase_order.changed"
CLOSED_STATUSES = ("closed", "cancelled")
Source = Database | SUDatabase
Outcome = Literal["created", "updated", "unchanged", "cancelled"]


class PoIssue(StrEnum):
    """Why a PO line (from the API or a CSV row) is refused: `details.problems[].code`."""

    UNKNOWN_SKU = "UNKNOWN_SKU"
    NO_CASE_QTY = "NO_CASE_QTY"
    QTY_INVALID = "QTY_INVALID"
    UOM_INVALID = "UOM_INVALID"
    DATE_INVALID = "DATE_INVALID"
    LINE_NO_INVALID = "LINE_NO_INVALID"
    LINE_NO_DUPLICATE = "LINE_NO_DUPLICATE"
    LOT_INVALID = "LOT_INVALID"
    PO_NUMBER_INVALID = "PO_NUMBER_INVALID"
    SUPPLIER_MISSING = "SUPPLIER_MISSING"
    SUPPLIER_MIXED = "SUPPLIER_MIXED"
    DUE_DATE_MIXED = "DUE_DATE_MIXED"


@dataclass(frozen=True, slots=True)
class PoHeader:
    supplier: str
    due_date: date | None = None
    blind: bool | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A checked PO line, resolved against the item master."""

    line_no: int
    item_id: int
    sku: str
    uom: str
    qty_ordered: int
    units_per_uom: int
    expected_lots: tuple[str, ...]

    @property
    def qty_expected(self) -> int:
        return self.qty_ordered * self.units_per_uom


def fetch_rows(source: Source, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    if isinstance(source, Database):
        return source.query(sql, params)
    cursor = source.execute(sql, list(params))
    columns = [d[0] for d in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def site_id(source: Source, site: str) -> int:
    """The id of site `site`; LAYOUT_NOT_LOADED while the site has no row (no layout yet)."""
    found = fetch_rows(source, "SELECT id FROM sites WHERE code = ?", [site])
    if not found:
        raise AislewayError(ErrorCode.LAYOUT_NOT_LOADED, details={"site": site})
    return int(found[0]["id"])


def line_status(qty_expected: int, qty_received: int) -> str:
    """The status of an open PO line from its quantities (`short` is decided at closing)."""
    if qty_received == 0:
        return "open"
    if qty_received < qty_expected:
        return "partial"
    return "complete" if qty_received == qty_expected else "over"


def problem(line_no: int | None, field: str, code: PoIssue, reason: str) -> dict[str, Any]:
    return {"line_no": line_no, "field": field, "code": code.value, "reason": reason}


def plan_lines(
    source: Source, lines: Sequence[PoLineIn]
) -> tuple[list[PlannedLine], list[dict[str, Any]]]:
    """Resolve checked lines against the item master: (planned lines, problems).

    Problems: UNKNOWN_SKU, NO_CASE_QTY (a CS line for an item whose case_qty is 1)."""
    stored = load_items(source, [line.sku for line in lines])
    planned: list[PlannedLine] = []
    problems: list[dict[str, Any]] = []
    for line in lines:
        item = stored.get(line.sku)
        if item is None:
            reason = f"SKU {line.sku} is not in the item master."
            problems.append(problem(line.line_no, "sku", PoIssue.UNKNOWN_SKU, reason))
            continue
        units = 1
        if line.uom == "CS":
            if item.case_qty <= 1:
                reason = f"item {item.sku} has no case size (case_qty); order it in EA."
                problems.append(problem(line.line_no, "uom", PoIssue.NO_CASE_QTY, reason))
                continue
            units = item.case_qty
        planned.append(
            PlannedLine(
                line_no=line.line_no,
                item_id=item.id,
                sku=item.sku,
                uom=line.uom,
                qty_ordered=line.qty,
                units_per_uom=units,
                expected_lots=tuple(line.expected_lots),
            )
        )
    return planned, problems


# -- writing ----------------------------------------------------------------------------------
def _event(w: SUDatabase, site: str, number: str, status: str, outcome: Outcome) -> None:
    emit(w, PO_CHANGED, {"site": site, "number": number, "status": status, "outcome": outcome})


def _lots_json(lots: Sequence[str]) -> str:
    return json.dumps(list(lots), separators=(",", ":"))


def _line_values(p: PlannedLine) -> tuple[Any, ...]:
    return (
        p.item_id,
        p.uom,
        p.qty_ordered,
        p.units_per_uom,
        p.qty_expected,
        _lots_json(p.expected_lots),
    )


def _header_values(h: PoHeader) -> tuple[Any, ...]:
    blind = None if h.blind is None else int(h.blind)
    return (h.supplier, h.due_date.isoformat() if h.due_date else None, blind, h.notes)


def write_po(
    w: SUDatabase, site: str, number: str, header: PoHeader, planned: Sequence[PlannedLine]
) -> Outcome:
    """Create or replace PO `number` with already planned lines, inside the caller's write
    transaction. Refuses (changing nothing) PO_CLOSED and PO_LINE_RECEIVED. Emits
    `purchase_order.changed` unless the order is unchanged."""
    from edge_server.wms.clients import document_owner  # clients reads through this module

    sid = site_id(w, site)
    now = iso()
    found = fetch_rows(
        w, "SELECT * FROM purchase_orders WHERE site_id = ? AND number = ?", [sid, number]
    )
    # the PO belongs to the client owning its items (docs/clients.md); it never changes hands
    owner = document_owner(w, [p.item_id for p in planned])
    if found and found[0]["owner"] != owner:
        raise AislewayError(
            ErrorCode.CLIENT_OWNER_MISMATCH,
            details={"number": number, "owner": owner, "po_owner": found[0]["owner"]},
        )
    if not found:
        cur = w.execute(
            "INSERT INTO purchase_orders (site_id, number, supplier, due_date, blind, notes, "
            "owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sid, number, *_header_values(header), owner, now, now],
        )
        po_id = int(cur.lastrowid or 0)
        w.conn.executemany(
            "INSERT INTO po_lines (po_id, line_no, item_id, uom, qty_ordered, units_per_uom, "
            "qty_expected, expected_lots_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(po_id, p.line_no, *_line_values(p)) for p in planned],
        )
        _event(w, site, number, "open", "created")
        return "created"

    po = found[0]
    if po["status"] in CLOSED_STATUSES:
        raise AislewayError(ErrorCode.PO_CLOSED, details={"number": number, "status": po["status"]})
    existing = {
        r["line_no"]: r for r in fetch_rows(w, "SELECT * FROM po_lines WHERE po_id = ?", [po["id"]])
    }
    wanted = {p.line_no: p for p in planned}
    conflicts: list[dict[str, Any]] = []
    for line_no, ex in sorted(existing.items()):
        received = int(ex["qty_received"])
        if received == 0:
            continue
        new = wanted.get(line_no)
        if new is None:
            reason, detail = "removed", "the line was left out"
        elif new.item_id != ex["item_id"]:
            reason, detail = "item_changed", f"the line would change to item {new.sku}"
        elif new.qty_expected < received:
            reason = "below_received"
            detail = f"{new.qty_expected} expected would be below the {received} received"
        else:
            continue
        conflicts.append(
            {"line_no": line_no, "reason": reason, "qty_received": received, "detail": detail}
        )
    if conflicts:
        raise AislewayError(
            ErrorCode.PO_LINE_RECEIVED, details={"number": number, "lines": conflicts}
        )

    changed = False
    if _header_values(header) != (po["supplier"], po["due_date"], po["blind"], po["notes"]):
        changed = True
        w.execute(
            "UPDATE purchase_orders SET supplier = ?, due_date = ?, blind = ?, notes = ? "
            "WHERE id = ?",
            [*_header_values(header), po["id"]],
        )
    for line_no, p in wanted.items():
        old = existing.get(line_no)
        if old is None:
            changed = True
            w.execute(
                "INSERT INTO po_lines (po_id, line_no, item_id, uom, qty_ordered, units_per_uom, "
                "qty_expected, expected_lots_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [po["id"], line_no, *_line_values(p)],
            )
            continue
        before = (
            old["item_id"],
            old["uom"],
            old["qty_ordered"],
            old["units_per_uom"],
            old["qty_expected"],
            old["expected_lots_json"],
        )
        if before == _line_values(p) and old["status"] != "cancelled":
            continue
        changed = True
        w.execute(
            "UPDATE po_lines SET item_id = ?, uom = ?, qty_ordered = ?, units_per_uom = ?, "
            "qty_expected = ?, expected_lots_json = ?, status = ? WHERE id = ?",
            [*_line_values(p), line_status(p.qty_expected, int(old["qty_received"])), old["id"]],
        )
    gone = [
        ex["id"] for n, ex in existing.items() if n not in wanted and ex["status"] != "cancelled"
    ]
    if gone:
        changed = True
        w.conn.executemany(
            "UPDATE po_lines SET status = 'cancelled' WHERE id = ?", [(i,) for i in gone]
        )
    if not changed:
        return "unchanged"
    w.execute("UPDATE purchase_orders SET updated_at = ? WHERE id = ?", [now, po["id"]])
    _event(w, site, number, po["status"], "updated")
    return "updated"


def put_po(
    w: SUDatabase, site: str, number: str, header: PoHeader, lines: Sequence[PoLineIn]
) -> Outcome:
    """Check `lines` against the item master and create or replace the PO (see `write_po`).
    Refuses PO_INVALID with `details.problems` when a line cannot be used."""
    site_id(w, site)  # no site, no PO: say so before listing line problems
    planned, problems = plan_lines(w, lines)
    if problems:
        raise AislewayError(ErrorCode.PO_INVALID, details={"number": number, "problems": problems})
    return write_po(w, site, number, header, planned)


def cancel_po(w: SUDatabase, site: str, number: str) -> Outcome:
    """Cancel an order nothing has been received on; cancelling twice is `unchanged`."""
    sid = site_id(w, site)
    found = fetch_rows(
        w, "SELECT id, status FROM purchase_orders WHERE site_id = ? AND number = ?", [sid, number]
    )
    if not found:
        raise AislewayError(ErrorCode.PO_NOT_FOUND, details={"number": number})
    po = found[0]
    if po["status"] == "cancelled":
        return "unchanged"
    if po["status"] == "closed":
        raise AislewayError(ErrorCode.PO_CLOSED, details={"number": number, "status": "closed"})
    received = fetch_rows(
        w, "SELECT COALESCE(SUM(qty_received), 0) AS n FROM po_lines WHERE po_id = ?", [po["id"]]
    )[0]["n"]
    if received:
        raise AislewayError(
            ErrorCode.PO_RECEIVING_STARTED, details={"number": number, "qty_received": received}
        )
    now = iso()
    w.execute(
        "UPDATE purchase_orders SET status = 'cancelled', updated_at = ?, closed_at = ? "
        "WHERE id = ?",
        [now, now, po["id"]],
    )
    w.execute("UPDATE po_lines SET status = 'cancelled' WHERE po_id = ?", [po["id"]])
    _event(w, site, number, "cancelled", "cancelled")
    return "cancelled"


# -- reading ----------------------------------------------------------------------------------
_PROGRESS = """
    COALESCE(SUM(CASE WHEN l.status != 'cancelled' THEN l.qty_expected END), 0) AS qty_expected,
    COALESCE(SUM(CASE WHEN l.status != 'cancelled' THEN l.qty_received END), 0) AS qty_received,
    COUNT(CASE WHEN l.status != 'cancelled' THEN 1 END) AS lines,
    COUNT(CASE WHEN l.status IN ('complete', 'over') THEN 1 END) AS lines_complete
"""
_HEADER = (
    "SELECT p.id, s.code AS site, p.number, p.supplier, p.status, p.due_date, p.blind, p.notes, "
    "p.created_at, p.updated_at, p.closed_at, " + _PROGRESS + " FROM purchase_orders p "
    "JOIN sites s ON s.id = p.site_id LEFT JOIN po_lines l ON l.po_id = p.id "
)


def _header_out(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["blind"] = None if row["blind"] is None else bool(row["blind"])
    out["progress"] = {
        k: int(out.pop(k)) for k in ("qty_expected", "qty_received", "lines", "lines_complete")
    }
    return out


def po_lines(source: Source, site: str, number: str) -> list[dict[str, Any]]:
    """The lines of PO `number` in line order, cancelled ones included, each with its `id`
    (po_lines.id), `item_id`, `sku`, the item's tracking flags, quantities, status and
    `expected_lots`. Empty when there is no such PO."""
    rows = fetch_rows(
        source,
        "SELECT l.id, l.line_no, l.item_id, i.sku, i.description, i.lot_tracked, "
        "i.expiry_tracked, l.uom, l.qty_ordered, l.units_per_uom, l.qty_expected, "
        "l.qty_received, l.status, l.expected_lots_json FROM po_lines l "
        "JOIN purchase_orders p ON p.id = l.po_id JOIN sites s ON s.id = p.site_id "
        "JOIN items i ON i.id = l.item_id WHERE s.code = ? AND p.number = ? ORDER BY l.line_no",
        [site, number],
    )
    for row in rows:
        row["expected_lots"] = json.loads(row.pop("expected_lots_json"))
        row["lot_tracked"] = bool(row["lot_tracked"])
        row["expiry_tracked"] = bool(row["expiry_tracked"])
    return rows


def get_po(source: Source, site: str, number: str) -> dict[str, Any] | None:
    """PO `number` of `site` with its `progress` totals and `lines` (see `po_lines`)."""
    found = fetch_rows(
        source, _HEADER + "WHERE s.code = ? AND p.number = ? GROUP BY p.id", [site, number]
    )
    if not found:
        return None
    po = _header_out(found[0])
    po["lines"] = po_lines(source, site, number)
    return po


def list_pos(
    source: Source,
    site: str,
    *,
    status: str | None = None,
    supplier: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of `site`'s POs in number order, with progress totals but no lines."""
    where = ["s.code = ?"]
    params: list[Any] = [site]
    if status is not None:
        where.append("p.status = ?")
        params.append(status)
    if supplier is not None:
        where.append("p.supplier = ?")
        params.append(supplier)
    cond = " AND ".join(where)
    total = fetch_rows(
        source,
        "SELECT COUNT(*) AS n FROM purchase_orders p JOIN sites s ON s.id = p.site_id "
        f"WHERE {cond}",
        params,
    )[0]["n"]
    rows = fetch_rows(
        source,
        _HEADER + f"WHERE {cond} GROUP BY p.id ORDER BY p.number LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {
        "items": [_header_out(r) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }
