"""Returns: expected returns (RMAs) from the OMS, the disposition rules, and posting what
comes back (docs/returns.md).

Every function taking `w` runs inside the caller's write transaction: the return movement, the
disposition, the putaway tasks, the wrong-item report, the RMA's progress and the events
commit together or not at all.

Posting units (`post_units`): the rules turn (line reason, receiver's condition) into a
disposition, then
- restock: ledger `return` into the returns area, status `available`, + putaway tasks to
  storage (the units are sellable: `sellable_qty` = qty),
- refurbish: ledger `return`, status `quarantine`, stays in the returns area to be worked,
- quarantine: ledger `return`, status `quarantine`, + putaway tasks to a quarantine bin,
- scrap: ledger `return` (status `damaged`), then removed with a `disposition` movement.
Each movement emits `inventory.changed`; each posting emits `return.received`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import inventory, ledger
from edge_server.wms.ledger import Actor, StockKey
from edge_server.wms.outbound.shipping import report_wrong_items
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from edge_server.wms.putaway.tasks import create_putaway_tasks
from protocols.errors import ErrorCode
from protocols.packing import WrongItemsIn
from protocols.returns import (
    DEFAULT_RULES,
    Condition,
    Disposition,
    DispositionRulesIn,
    ReturnIn,
    ReturnReason,
)

__all__ = [
    "OPEN",
    "RETURN_CANCELLED",
    "RETURN_CLOSED",
    "RETURN_RECEIVED",
    "STATUS_FOR",
    "cancel_return",
    "close_return",
    "disposition_rules",
    "find_return",
    "get_return",
    "list_returns",
    "post_units",
    "put_return",
    "return_lines",
    "returns_location",
    "rules_view",
    "set_rules",
]

RETURN_RECEIVED = "return.received"
RETURN_CLOSED = "return.closed"
RETURN_CANCELLED = "return.cancelled"
OPEN = ("expected", "receiving")
Row = dict[str, Any]
Cell = tuple[ReturnReason, Condition]

#: The stock status each disposition receives the units in.
STATUS_FOR: dict[Disposition, str] = {
    Disposition.RESTOCK: "available",
    Disposition.REFURBISH: "quarantine",
    Disposition.QUARANTINE: "quarantine",
    Disposition.SCRAP: "damaged",
}


# -- reading --------------------------------------------------------------------------------------
def find_return(
    source: Source, site: str, *, rma: str | None = None, tracking: str | None = None
) -> Row | None:
    """The return by RMA number, or the open return whose label has tracking `tracking`."""
    sid = site_id(source, site)
    if rma is not None:
        rows = fetch_rows(source, "SELECT * FROM returns WHERE site_id = ? AND rma = ?", [sid, rma])
    else:
        rows = fetch_rows(
            source,
            "SELECT * FROM returns WHERE site_id = ? AND UPPER(tracking) = UPPER(?) "
            "ORDER BY status IN ('expected', 'receiving') DESC, id DESC",
            [sid, tracking],
        )
    return rows[0] if rows else None


def return_lines(source: Source, return_id: int) -> list[Row]:
    return fetch_rows(
        source,
        "SELECT rl.*, i.sku, i.description, i.lot_tracked FROM return_lines rl "
        "JOIN items i ON i.id = rl.item_id WHERE rl.return_id = ? ORDER BY rl.line_no",
        [return_id],
    )


def _order_number(source: Source, order_id: int | None) -> str | None:
    if order_id is None:
        return None
    rows = fetch_rows(source, "SELECT number FROM fulfillment_orders WHERE id = ?", [order_id])
    return str(rows[0]["number"]) if rows else None


def _view(source: Source, ret: Row, *, receipts: bool = True) -> Row:
    lines = return_lines(source, ret["id"])
    view: Row = {
        "rma": ret["rma"],
        "order": _order_number(source, ret["order_id"]),
        "customer": ret["customer"],
        "tracking": ret["tracking"],
        "carrier": ret["carrier"],
        "status": ret["status"],
        "created_at": ret["created_at"],
        "updated_at": ret["updated_at"],
        "closed_at": ret["closed_at"],
        "lines": [
            {
                "line_no": ln["line_no"],
                "sku": ln["sku"],
                "description": ln["description"],
                "reason": ln["reason"],
                "qty_expected": ln["qty_expected"],
                "qty_received": ln["qty_received"],
                "qty_open": ln["qty_expected"] - ln["qty_received"],
            }
            for ln in lines
        ],
        "progress": {
            "units_expected": sum(ln["qty_expected"] for ln in lines),
            "units_received": sum(ln["qty_received"] for ln in lines),
        },
    }
    if receipts:
        view["receipts"] = [
            {
                "line_no": r["line_no"],
                "sku": r["sku"],
                "lot": r["lot"],
                "qty": r["qty"],
                "condition": r["condition"],
                "disposition": r["disposition"],
                "sellable_qty": r["sellable_qty"],
                "location": r["location"],
                "stock_status": r["stock_status"],
                "received_at": r["received_at"],
            }
            for r in fetch_rows(
                source,
                "SELECT rr.*, rl.line_no, i.sku, l.code AS location FROM return_receipts rr "
                "JOIN return_lines rl ON rl.id = rr.line_id JOIN items i ON i.id = rr.item_id "
                "JOIN locations l ON l.id = rr.location_id WHERE rr.return_id = ? "
                "ORDER BY rr.id",
                [ret["id"]],
            )
        ]
    return view


def get_return(source: Source, site: str, rma: str) -> Row:
    """The RMA with its lines, progress and what was received (RETURNS_RMA_UNKNOWN)."""
    ret = find_return(source, site, rma=rma)
    if ret is None:
        raise AislewayError(ErrorCode.RETURNS_RMA_UNKNOWN, details={"rma": rma})
    return _view(source, ret)


def list_returns(
    source: Source, site: str, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> Row:
    """A page of the site's RMAs, newest first, with lines and progress (no receipts)."""
    sid = site_id(source, site)
    where = "site_id = ?"
    params: list[Any] = [sid]
    if status is not None:
        where += " AND status = ?"
        params.append(status)
    total = fetch_rows(source, f"SELECT COUNT(*) AS n FROM returns WHERE {where}", params)[0]["n"]
    rows = fetch_rows(
        source,
        f"SELECT * FROM returns WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {
        "items": [_view(source, r, receipts=False) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }


# -- the expected return ------------------------------------------------------------------------
def put_return(w: SUDatabase, site: str, rma: str, body: ReturnIn) -> str:
    """Create or replace RMA `rma`; returns `created`, `updated` or `unchanged`.

    Refusals change nothing: UNKNOWN_ITEM (a SKU), FO_NOT_FOUND (the order), RETURNS_RMA_CLOSED
    (closed or cancelled), RETURNS_TRACKING_IN_USE (another open RMA has the label),
    RETURNS_LINE_BELOW_RECEIVED (a change below what was already received)."""
    sid = site_id(w, site)
    item_ids = {ln.sku: inventory.item_id(w, ln.sku) for ln in body.lines}
    order_id = None
    if body.order is not None:
        found = fetch_rows(
            w,
            "SELECT id FROM fulfillment_orders WHERE site_id = ? AND number = ?",
            [sid, body.order],
        )
        if not found:
            raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": body.order})
        order_id = int(found[0]["id"])
    existing = find_return(w, site, rma=rma)
    if existing is not None and existing["status"] not in OPEN:
        raise AislewayError(
            ErrorCode.RETURNS_RMA_CLOSED, details={"rma": rma, "status": existing["status"]}
        )
    if body.tracking is not None:
        other = fetch_rows(
            w,
            "SELECT rma FROM returns WHERE site_id = ? AND UPPER(tracking) = UPPER(?) "
            "AND status IN ('expected', 'receiving') AND rma != ?",
            [sid, body.tracking, rma],
        )
        if other:
            raise AislewayError(
                ErrorCode.RETURNS_TRACKING_IN_USE,
                details={"tracking": body.tracking, "rma": other[0]["rma"]},
            )
    now = iso()
    header = [order_id, body.customer, body.tracking, body.carrier]
    if existing is None:
        cur = w.execute(
            "INSERT INTO returns (site_id, rma, order_id, customer, tracking, carrier, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            [sid, rma, *header, now, now],
        )
        return_id = int(cur.lastrowid or 0)
        for ln in body.lines:
            _insert_line(w, return_id, ln.line_no, item_ids[ln.sku], ln.qty, ln.reason)
        return "created"
    return_id = int(existing["id"])
    old = {ln["line_no"]: ln for ln in return_lines(w, return_id)}
    new = {ln.line_no: ln for ln in body.lines}
    for line_no, had in old.items():
        if not had["qty_received"]:
            continue
        kept = new.get(line_no)
        if kept is None or kept.sku != had["sku"] or kept.qty < had["qty_received"]:
            raise AislewayError(
                ErrorCode.RETURNS_LINE_BELOW_RECEIVED,
                details={
                    "line_no": line_no,
                    "sku": had["sku"],
                    "qty_received": had["qty_received"],
                    "qty": kept.qty if kept else None,
                },
            )
    same_header = [existing[k] for k in ("order_id", "customer", "tracking", "carrier")] == header
    same_lines = set(old) == set(new) and all(
        (o["sku"], o["qty_expected"], o["reason"]) == (new[n].sku, new[n].qty, new[n].reason.value)
        for n, o in old.items()
    )
    if same_header and same_lines:
        return "unchanged"
    w.execute(
        "UPDATE returns SET order_id = ?, customer = ?, tracking = ?, carrier = ?, "
        "updated_at = ? WHERE id = ?",
        [*header, now, return_id],
    )
    for line_no, o in old.items():
        if line_no not in new:
            w.execute("DELETE FROM return_lines WHERE id = ?", [o["id"]])
    for line_no, given in new.items():
        if line_no in old:
            w.execute(
                "UPDATE return_lines SET item_id = ?, qty_expected = ?, reason = ? WHERE id = ?",
                [item_ids[given.sku], given.qty, given.reason.value, old[line_no]["id"]],
            )
        else:
            _insert_line(w, return_id, line_no, item_ids[given.sku], given.qty, given.reason)
    return "updated"


def _insert_line(
    w: SUDatabase, return_id: int, line_no: int, item_id: int, qty: int, reason: ReturnReason
) -> None:
    w.execute(
        "INSERT INTO return_lines (return_id, line_no, item_id, qty_expected, reason) "
        "VALUES (?,?,?,?,?)",
        [return_id, line_no, item_id, qty, reason.value],
    )


def cancel_return(w: SUDatabase, site: str, rma: str) -> str:
    """Cancel an RMA before anything of it was received; `cancelled` or `unchanged` (already
    cancelled). RETURNS_RMA_RECEIVED once goods were received, RETURNS_RMA_CLOSED when closed."""
    ret = find_return(w, site, rma=rma)
    if ret is None:
        raise AislewayError(ErrorCode.RETURNS_RMA_UNKNOWN, details={"rma": rma})
    if ret["status"] == "cancelled":
        return "unchanged"
    if ret["status"] == "closed":
        raise AislewayError(ErrorCode.RETURNS_RMA_CLOSED, details={"rma": rma, "status": "closed"})
    received = fetch_rows(
        w, "SELECT COUNT(*) AS n FROM return_receipts WHERE return_id = ?", [ret["id"]]
    )[0]["n"]
    if received:
        raise AislewayError(ErrorCode.RETURNS_RMA_RECEIVED, details={"rma": rma})
    now = iso()
    w.execute(
        "UPDATE returns SET status = 'cancelled', updated_at = ?, closed_at = ? WHERE id = ?",
        [now, now, ret["id"]],
    )
    w.execute(
        "UPDATE return_sessions SET status = 'closed', closed_at = ?, pending_json = NULL "
        "WHERE return_id = ? AND status = 'open'",
        [now, ret["id"]],
    )
    order = _order_number(w, ret["order_id"])
    emit(w, RETURN_CANCELLED, {"site": site, "rma": rma, "order": order})
    return "cancelled"


# -- disposition rules --------------------------------------------------------------------------
def disposition_rules(source: Source, site: str) -> dict[Cell, Disposition]:
    """The site's table: the defaults with the site's changes over them."""
    table = dict(DEFAULT_RULES)
    for r in fetch_rows(
        source,
        "SELECT reason, condition, disposition FROM return_disposition_rules WHERE site_id = ?",
        [site_id(source, site)],
    ):
        cell = (ReturnReason(r["reason"]), Condition(r["condition"]))
        table[cell] = Disposition(r["disposition"])
    return table


def rules_view(source: Source, site: str) -> Row:
    table = disposition_rules(source, site)
    return {
        "rules": [
            {
                "reason": reason.value,
                "condition": condition.value,
                "disposition": table[(reason, condition)].value,
                "default": DEFAULT_RULES[(reason, condition)].value,
            }
            for reason in ReturnReason
            for condition in Condition
        ]
    }


def set_rules(w: SUDatabase, site: str, body: DispositionRulesIn) -> Row:
    """Change cells of the site's table (`reset` first drops every change)."""
    sid = site_id(w, site)
    if body.reset:
        w.execute("DELETE FROM return_disposition_rules WHERE site_id = ?", [sid])
    now = iso()
    for rule in body.rules:
        w.execute(
            "INSERT INTO return_disposition_rules (site_id, reason, condition, disposition, "
            "updated_at) VALUES (?,?,?,?,?) ON CONFLICT (site_id, reason, condition) "
            "DO UPDATE SET disposition = excluded.disposition, updated_at = excluded.updated_at",
            [sid, rule.reason.value, rule.condition.value, rule.disposition.value, now],
        )
    return rules_view(w, site)


# -- receiving what came back ---------------------------------------------------------------------
def returns_location(w: SUDatabase, site: str, code: str | None) -> Row:
    """The returns area to receive into: `code`, or the site's first returns location."""
    sid = site_id(w, site)
    if code:
        rows = fetch_rows(
            w,
            "SELECT id, code, type FROM locations WHERE site_id = ? AND code = ? AND active = 1",
            [sid, code.strip().upper()],
        )
        if not rows or rows[0]["type"] != "returns":
            raise AislewayError(ErrorCode.RETURNS_LOCATION_INVALID, details={"location": code})
        return rows[0]
    rows = fetch_rows(
        w,
        "SELECT id, code, type FROM locations WHERE site_id = ? AND type = 'returns' "
        "AND active = 1 ORDER BY code LIMIT 1",
        [sid],
    )
    if not rows:
        raise AislewayError(ErrorCode.RETURNS_NO_LOCATION)
    return rows[0]


def _changed(w: SUDatabase, site: str, sku: str, mv: ledger.Movement) -> Row:
    # `inventory.receive` posts type `receipt`; a return posts type `return` through the ledger
    # and then emits the same `inventory.changed` event the inventory commands do.
    return inventory.announce(w, site, sku, mv)


def _shipped(w: SUDatabase, order_id: int | None) -> bool:
    if order_id is None:
        return False
    return bool(fetch_rows(w, "SELECT 1 FROM shipments WHERE order_id = ?", [order_id]))


def post_units(
    w: SUDatabase,
    site: str,
    *,
    ret: Row,
    line: Row,
    qty: int,
    lot: str,
    expiry: str | None,
    condition: Condition,
    location: Row,
    session_id: int | None,
    actor: Actor,
) -> Row:
    """Receive `qty` units of an RMA line in `condition`: the rules decide the disposition.
    The caller has checked the line has room (`qty_expected - qty_received >= qty`)."""
    reason = ReturnReason(line["reason"])
    disposition = disposition_rules(w, site)[(reason, condition)]
    status = STATUS_FOR[disposition]
    rma, sku = ret["rma"], line["sku"]
    ref = f"RMA {rma}"
    key = StockKey(location["id"], line["item_id"], lot, "", status)
    mv = ledger.receive(
        w,
        key,
        qty,
        expiry=expiry,
        movement_type="return",
        reason=f"{reason.value}/{condition.value}",
        ref=ref,
        actor=actor,
    )
    changed = [_changed(w, site, sku, mv)]
    task_ids: list[int] = []
    scrap_mv: ledger.Movement | None = None
    if disposition in (Disposition.RESTOCK, Disposition.QUARANTINE):
        task_ids = create_putaway_tasks(
            w,
            site,
            location=location["code"],
            lpn="",
            sku=sku,
            lot=lot,
            qty=qty,
            status=status,
            ref=ref,
            actor=actor,
        )
    elif disposition is Disposition.SCRAP:
        scrap_mv = ledger.remove(
            w, key, qty, movement_type="disposition", reason="scrap", ref=ref, actor=actor
        )
        changed.append(_changed(w, site, sku, scrap_mv))
    sellable = qty if disposition is Disposition.RESTOCK else 0
    order = _order_number(w, ret["order_id"])
    wrong_id = None
    if reason is ReturnReason.WRONG_ITEM and order is not None and _shipped(w, ret["order_id"]):
        # Counts in the pick accuracy KPI (wrong items shipped) against the order's shipment.
        wrong_id = report_wrong_items(
            w,
            site,
            order,
            WrongItemsIn(sku=sku, qty=qty, note=f"{ref} line {line['line_no']}"),
            reported_by=f"user:{actor.user_id}" if actor.user_id else "returns",
        )["id"]
    now = iso()
    w.execute(
        "INSERT INTO return_receipts (return_id, line_id, session_id, item_id, lot, qty, "
        "condition, disposition, sellable_qty, location_id, stock_status, movement_id, "
        "disposition_movement_id, putaway_task_ids, wrong_shipment_id, user_id, device_id, "
        "received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            ret["id"],
            line["id"],
            session_id,
            line["item_id"],
            lot,
            qty,
            condition.value,
            disposition.value,
            sellable,
            location["id"],
            status,
            mv.id,
            scrap_mv.id if scrap_mv else None,
            json.dumps(task_ids),
            wrong_id,
            actor.user_id,
            actor.device_id,
            now,
        ],
    )
    w.execute(
        "UPDATE return_lines SET qty_received = qty_received + ? WHERE id = ?", [qty, line["id"]]
    )
    w.execute(
        "UPDATE returns SET status = 'receiving', updated_at = ? WHERE id = ?", [now, ret["id"]]
    )
    view: Row = {
        "rma": rma,
        "order": order,
        "line_no": line["line_no"],
        "sku": sku,
        "lot": lot,
        "qty": qty,
        "reason": reason.value,
        "condition": condition.value,
        "disposition": disposition.value,
        "sellable_qty": sellable,
        "stock_status": status if disposition is not Disposition.SCRAP else None,
        "location": location["code"],
        "putaway_task_ids": task_ids,
        "wrong_item_reported": wrong_id is not None,
    }
    emit(
        w,
        RETURN_RECEIVED,
        {
            "site": site,
            **view,
            "session_id": session_id,
            "movement_ids": [c["movement_id"] for c in changed],
            "user_id": actor.user_id,
            "received_at": now,
        },
    )
    return view


def close_return(w: SUDatabase, site: str, ret: Row, *, actor: Actor) -> Row:
    """Close the RMA with what arrived (its open jobs close with it) and emit `return.closed`,
    on which the OMS refunds. Returns the event's payload."""
    now = iso()
    w.execute(
        "UPDATE returns SET status = 'closed', closed_at = ?, closed_by = ?, updated_at = ? "
        "WHERE id = ?",
        [now, actor.user_id, now, ret["id"]],
    )
    w.execute(
        "UPDATE return_sessions SET status = 'closed', closed_at = ?, pending_json = NULL "
        "WHERE return_id = ? AND status = 'open'",
        [now, ret["id"]],
    )
    by_line: dict[int, dict[str, int]] = {}
    sellable: dict[int, int] = {}
    for r in fetch_rows(
        w,
        "SELECT line_id, disposition, SUM(qty) AS qty, SUM(sellable_qty) AS sellable "
        "FROM return_receipts WHERE return_id = ? GROUP BY line_id, disposition",
        [ret["id"]],
    ):
        by_line.setdefault(r["line_id"], {})[r["disposition"]] = int(r["qty"])
        sellable[r["line_id"]] = sellable.get(r["line_id"], 0) + int(r["sellable"])
    lines = [
        {
            "line_no": ln["line_no"],
            "sku": ln["sku"],
            "reason": ln["reason"],
            "qty_expected": ln["qty_expected"],
            "qty_received": ln["qty_received"],
            "qty_sellable": sellable.get(ln["id"], 0),
            "dispositions": by_line.get(ln["id"], {}),
        }
        for ln in return_lines(w, ret["id"])
    ]
    payload: Row = {
        "site": site,
        "rma": ret["rma"],
        "order": _order_number(w, ret["order_id"]),
        "customer": ret["customer"],
        "tracking": ret["tracking"],
        "closed_at": now,
        "complete": all(ln["qty_received"] == ln["qty_expected"] for ln in lines),
        "units_expected": sum(ln["qty_expected"] for ln in lines),
        "units_received": sum(ln["qty_received"] for ln in lines),
        "units_sellable": sum(ln["qty_sellable"] for ln in lines),
        "lines": lines,
    }
    emit(w, RETURN_CLOSED, payload)
    return payload
