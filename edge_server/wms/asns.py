"""Advance shipping notices (ASNs): what a supplier says is on the truck, pallet by pallet.

An ASN may name a PO and link each line to one of its lines (same item). An SSCC (pallet or
case label) may be on several lines of one ASN (a mixed pallet) but on only one open ASN
(`expected` or `receiving`) of the site, so a pallet scan finds one notice. Lines the
receiving scenario has marked received (`received_at`) cannot change any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import clients
from edge_server.wms.items import load_items
from edge_server.wms.purchase_orders import (
    CLOSED_STATUSES,
    Outcome,
    Source,
    fetch_rows,
    site_id,
)
from protocols.errors import ErrorCode
from protocols.inbound import AsnIn

__all__ = [
    "ASN_CHANGED",
    "OPEN_STATUSES",
    "asn_lines_by_sscc",
    "get_asn",
    "put_asn",
]

ASN_CHANGED = "asn.changed"
OPEN_STATUSES = ("expected", "receiving")
_LINE_FIELDS = ("po_line_id", "item_id", "qty", "lot", "expiry", "sscc")


def _problem(line_no: int, field: str, code: str, reason: str) -> dict[str, Any]:
    return {"line_no": line_no, "field": field, "code": code, "reason": reason}


def put_asn(
    w: SUDatabase, site: str, number: str, asn: AsnIn, *, stated_owner: str = ""
) -> Outcome:
    """Create or replace ASN `number` inside the caller's write transaction.

    Refuses, changing nothing: PO_NOT_FOUND / PO_CLOSED (the named PO), ASN_INVALID with
    `details.problems` (UNKNOWN_SKU, PO_LINE_UNKNOWN, PO_LINE_ITEM_MISMATCH), ASN_CLOSED,
    SSCC_ON_OTHER_ASN, ASN_LINE_RECEIVED. Emits `asn.changed` unless unchanged."""
    sid = site_id(w, site)
    found = fetch_rows(w, "SELECT * FROM asns WHERE site_id = ? AND number = ?", [sid, number])
    current = found[0] if found else None
    if current is not None and current["status"] not in OPEN_STATUSES:
        raise AislewayError(
            ErrorCode.ASN_CLOSED, details={"number": number, "status": current["status"]}
        )

    po_id: int | None = None
    supplier = asn.supplier
    po_line_by_no: dict[int, dict[str, Any]] = {}
    if asn.po_number is not None:
        pos = fetch_rows(
            w,
            "SELECT id, status, supplier FROM purchase_orders WHERE site_id = ? AND number = ?",
            [sid, asn.po_number],
        )
        if not pos:
            raise AislewayError(
                ErrorCode.PO_NOT_FOUND, details={"field": "po_number", "number": asn.po_number}
            )
        po = pos[0]
        if po["status"] in CLOSED_STATUSES:
            raise AislewayError(
                ErrorCode.PO_CLOSED, details={"number": asn.po_number, "status": po["status"]}
            )
        po_id = int(po["id"])
        supplier = supplier or po["supplier"]
        po_line_by_no = {
            r["line_no"]: r
            for r in fetch_rows(
                w, "SELECT id, line_no, item_id, status FROM po_lines WHERE po_id = ?", [po_id]
            )
        }

    stored = load_items(w, [line.sku for line in asn.lines])
    problems: list[dict[str, Any]] = []
    wanted: dict[int, tuple[Any, ...]] = {}
    for line in asn.lines:
        item = stored.get(line.sku)
        if item is None:
            reason = f"SKU {line.sku} is not in the item master."
            problems.append(_problem(line.line_no, "sku", "UNKNOWN_SKU", reason))
            continue
        po_line_id = None
        if line.po_line_no is not None:
            po_line = po_line_by_no.get(line.po_line_no)
            if po_line is None or po_line["status"] == "cancelled":
                reason = f"PO {asn.po_number} has no line {line.po_line_no}."
                problems.append(_problem(line.line_no, "po_line_no", "PO_LINE_UNKNOWN", reason))
                continue
            if po_line["item_id"] != item.id:
                reason = f"PO line {line.po_line_no} is for another item than {item.sku}."
                problems.append(
                    _problem(line.line_no, "po_line_no", "PO_LINE_ITEM_MISMATCH", reason)
                )
                continue
            po_line_id = int(po_line["id"])
        expiry = line.expiry.isoformat() if line.expiry else None
        wanted[line.line_no] = (po_line_id, item.id, line.qty, line.lot, expiry, line.sscc)
    if problems:
        raise AislewayError(ErrorCode.ASN_INVALID, details={"number": number, "problems": problems})
    # the ASN belongs to the client owning its items (docs/clients.md); it never changes hands
    owner = clients.document_owner(w, [v[1] for v in wanted.values()], stated_owner)
    if current is not None and current["owner"] != owner:
        raise AislewayError(
            ErrorCode.CLIENT_OWNER_MISMATCH,
            details={"number": number, "owner": owner, "asn_owner": current["owner"]},
        )

    ssccs = sorted({v[5] for v in wanted.values() if v[5]})
    if ssccs:
        marks = ",".join("?" * len(ssccs))
        taken = fetch_rows(
            w,
            "SELECT al.sscc, a.number, al.line_no FROM asn_lines al "
            "JOIN asns a ON a.id = al.asn_id WHERE a.site_id = ? "
            f"AND a.status IN ('expected', 'receiving') AND al.sscc IN ({marks}) "
            "AND a.number != ? ORDER BY al.sscc",
            [sid, *ssccs, number],
        )
        if taken:
            others = [{"sscc": t["sscc"], "asn": t["number"]} for t in taken]
            raise AislewayError(
                ErrorCode.SSCC_ON_OTHER_ASN,
                details={"number": number, "ssccs": list({o["sscc"]: o for o in others}.values())},
            )

    now = iso()
    expected_at = asn.expected_at.isoformat() if asn.expected_at else None
    header = (po_id, supplier, expected_at)
    if current is None:
        cur = w.execute(
            "INSERT INTO asns (site_id, number, po_id, supplier, expected_at, owner, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [sid, number, *header, owner, now, now],
        )
        _insert_lines(w, int(cur.lastrowid or 0), wanted)
        _event(w, site, number, asn.po_number, "expected", "created")
        return "created"

    asn_id = int(current["id"])
    existing = {
        r["line_no"]: r for r in fetch_rows(w, "SELECT * FROM asn_lines WHERE asn_id = ?", [asn_id])
    }
    locked = [
        n
        for n, ex in sorted(existing.items())
        if ex["received_at"] is not None and wanted.get(n) != tuple(ex[f] for f in _LINE_FIELDS)
    ]
    if locked:
        raise AislewayError(
            ErrorCode.ASN_LINE_RECEIVED, details={"number": number, "line_nos": locked}
        )
    changed = header != (current["po_id"], current["supplier"], current["expected_at"])
    if changed:
        w.execute(
            "UPDATE asns SET po_id = ?, supplier = ?, expected_at = ? WHERE id = ?",
            [*header, asn_id],
        )
    gone = [ex["id"] for n, ex in existing.items() if n not in wanted]
    if gone:
        changed = True
        w.conn.executemany("DELETE FROM asn_lines WHERE id = ?", [(i,) for i in gone])
    for n, values in wanted.items():
        ex = existing.get(n)
        if ex is None:
            changed = True
            _insert_lines(w, asn_id, {n: values})
        elif tuple(ex[f] for f in _LINE_FIELDS) != values:
            changed = True
            w.execute(
                "UPDATE asn_lines SET "
                + ", ".join(f"{f} = ?" for f in _LINE_FIELDS)
                + " WHERE id = ?",
                [*values, ex["id"]],
            )
    if not changed:
        return "unchanged"
    w.execute("UPDATE asns SET updated_at = ? WHERE id = ?", [now, asn_id])
    _event(w, site, number, asn.po_number, current["status"], "updated")
    return "updated"


def _insert_lines(w: SUDatabase, asn_id: int, lines: dict[int, tuple[Any, ...]]) -> None:
    w.conn.executemany(
        "INSERT INTO asn_lines (asn_id, line_no, " + ", ".join(_LINE_FIELDS) + ") "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(asn_id, n, *values) for n, values in lines.items()],
    )


def _event(
    w: SUDatabase, site: str, number: str, po_number: str | None, status: str, outcome: Outcome
) -> None:
    payload = {
        "site": site,
        "number": number,
        "po_number": po_number,
        "status": status,
        "outcome": outcome,
    }
    emit(w, ASN_CHANGED, payload)


# -- reading ----------------------------------------------------------------------------------
_ASN = (
    "SELECT a.id, s.code AS site, a.number, p.number AS po_number, a.supplier, a.expected_at, "
    "a.status, a.owner, a.created_at, a.updated_at FROM asns a JOIN sites s ON s.id = a.site_id "
    "LEFT JOIN purchase_orders p ON p.id = a.po_id "
)
_LINES = (
    "SELECT al.id, al.line_no, al.item_id, i.sku, i.description, i.lot_tracked, "
    "i.expiry_tracked, al.qty, al.lot, al.expiry, al.sscc, al.po_line_id, "
    "pl.line_no AS po_line_no, al.received_at FROM asn_lines al "
    "JOIN items i ON i.id = al.item_id LEFT JOIN po_lines pl ON pl.id = al.po_line_id "
)


def _lines_out(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        row = dict(row)
        row["lot_tracked"] = bool(row["lot_tracked"])
        row["expiry_tracked"] = bool(row["expiry_tracked"])
        out.append(row)
    return out


def get_asn(
    source: Source, site: str, number: str, *, owner: str | None = None
) -> dict[str, Any] | None:
    """ASN `number` of `site` with its `lines` (each with `id`, `item_id`, `sku`, `qty`,
    `lot`, `expiry`, `sscc`, `po_line_id`, `po_line_no`, `received_at`), or None (also when
    `owner` is given and the ASN is not that owner's)."""
    found = fetch_rows(source, _ASN + "WHERE s.code = ? AND a.number = ?", [site, number])
    if not found or (owner is not None and found[0]["owner"] != owner):
        return None
    asn = found[0]
    asn["lines"] = _lines_out(
        fetch_rows(source, _LINES + "WHERE al.asn_id = ? ORDER BY al.line_no", [asn["id"]])
    )
    return asn


def asn_lines_by_sscc(source: Source, site: str, sscc: str) -> dict[str, Any] | None:
    """What an SSCC (a normalised 18-digit string) brings: `{"sscc", "asn": header,
    "lines": [...]}` from the open ASN that has it, else from the latest closed one (so a
    second scan of a received pallet can say so), or None when no ASN of `site` has it."""
    found = fetch_rows(
        source,
        _ASN + "WHERE s.code = ? AND a.id IN (SELECT asn_id FROM asn_lines WHERE sscc = ?) "
        "ORDER BY a.status IN ('expected', 'receiving') DESC, a.updated_at DESC LIMIT 1",
        [site, sscc],
    )
    if not found:
        return None
    asn = found[0]
    lines = fetch_rows(
        source,
        _LINES + "WHERE al.asn_id = ? AND al.sscc = ? ORDER BY al.line_no",
        [asn["id"], sscc],
    )
    return {"sscc": sscc, "asn": asn, "lines": _lines_out(lines)}
