"""Fulfillment orders: create or replace by number, cancel, read with allocation progress.

A PUT replaces the whole order while it is before picking (`received`, `allocated`,
`backordered`). Lines left out are kept with status `cancelled`; naming the line again
revives it. When a changed order already holds stock (`allocated`/`backordered`), its
allocations are released and it is allocated again in the same transaction, by the same
rules, so the OMS never has to cancel and resend. Once picking has started the order is
refused with FO_PICKING_STARTED; a cancelled or shipped order with FO_CLOSED.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import clients
from edge_server.wms.items import load_items
from edge_server.wms.outbound import allocation
from edge_server.wms.outbound.allocation import FO_CHANGED, refuse_unless_open
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode
from protocols.outbound import FulfillmentOrderIn

__all__ = ["FO_STATUSES", "Outcome", "cancel_order", "get_order", "list_orders", "put_order"]

Outcome = Literal["created", "updated", "unchanged", "cancelled"]
FO_STATUSES = ("received", "allocated", "backordered", "picking", "packed", "shipped", "cancelled")


def _event(w: SUDatabase, site: str, number: str, status: str, outcome: str) -> None:
    emit(w, FO_CHANGED, {"site": site, "number": number, "status": status, "outcome": outcome})


def _header(body: FulfillmentOrderIn, owner: str) -> tuple[Any, ...]:
    ship_to = json.dumps(body.ship_to.model_dump(mode="json"), separators=(",", ":"))
    promised = body.promised_ship_date.isoformat() if body.promised_ship_date else None
    return (ship_to, body.carrier_service, body.priority, promised, owner)


def put_order(w: SUDatabase, site: str, number: str, body: FulfillmentOrderIn) -> Outcome:
    """Create or replace order `number` inside the caller's write transaction. Refuses
    FO_INVALID (unknown SKUs, in `details.problems`), FO_CLOSED, FO_PICKING_STARTED, changing
    nothing. Emits `fulfillment_order.changed` unless the order is unchanged."""
    sid = site_id(w, site)
    stored = load_items(w, [line.sku for line in body.lines])
    problems = [
        {
            "line_no": line.line_no,
            "field": "sku",
            "code": "UNKNOWN_SKU",
            "reason": f"SKU {line.sku} is not in the item master.",
        }
        for line in body.lines
        if line.sku not in stored
    ]
    if problems:
        raise AislewayError(ErrorCode.FO_INVALID, details={"number": number, "problems": problems})
    wanted = {line.line_no: (stored[line.sku].id, line.qty) for line in body.lines}
    # the order belongs to the client owning its items (docs/clients.md)
    owner = clients.document_owner(w, [item for item, _ in wanted.values()], body.owner)
    header = _header(body, owner)
    now = iso()
    found = fetch_rows(
        w, "SELECT * FROM fulfillment_orders WHERE site_id = ? AND number = ?", [sid, number]
    )
    if not found:
        cur = w.execute(
            "INSERT INTO fulfillment_orders (site_id, number, ship_to_json, carrier_service, "
            "priority, promised_ship_date, owner, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sid, number, *header, now, now],
        )
        order_id = int(cur.lastrowid or 0)
        w.conn.executemany(
            "INSERT INTO fo_lines (order_id, line_no, item_id, qty_ordered) VALUES (?, ?, ?, ?)",
            [(order_id, n, item, qty) for n, (item, qty) in wanted.items()],
        )
        _event(w, site, number, "received", "created")
        return "created"

    order = found[0]
    refuse_unless_open(order)
    existing = {
        r["line_no"]: r
        for r in fetch_rows(w, "SELECT * FROM fo_lines WHERE order_id = ?", [order["id"]])
    }
    old_header = (
        order["ship_to_json"],
        order["carrier_service"],
        order["priority"],
        order["promised_ship_date"],
        order["owner"],
    )
    live = {
        n: (r["item_id"], r["qty_ordered"])
        for n, r in existing.items()
        if r["status"] != "cancelled"
    }
    if order["owner"] != owner:  # an order never changes hands
        raise AislewayError(
            ErrorCode.CLIENT_OWNER_MISMATCH,
            details={"number": number, "owner": owner, "order_owner": order["owner"]},
        )
    if old_header == header and live == wanted:
        return "unchanged"

    held = order["status"] in ("allocated", "backordered")
    allocation.release_order(w, order["id"])
    w.execute(
        "UPDATE fulfillment_orders SET ship_to_json = ?, carrier_service = ?, priority = ?, "
        "promised_ship_date = ?, owner = ?, status = 'received', updated_at = ? WHERE id = ?",
        [*header, now, order["id"]],
    )
    for n, (item, qty) in wanted.items():
        if n in existing:
            w.execute(
                "UPDATE fo_lines SET item_id = ?, qty_ordered = ?, qty_short = 0, "
                "status = 'open' WHERE id = ?",
                [item, qty, existing[n]["id"]],
            )
        else:
            w.execute(
                "INSERT INTO fo_lines (order_id, line_no, item_id, qty_ordered) "
                "VALUES (?, ?, ?, ?)",
                [order["id"], n, item, qty],
            )
    gone = [(r["id"],) for n, r in existing.items() if n not in wanted]
    w.conn.executemany("UPDATE fo_lines SET status = 'cancelled', qty_short = 0 WHERE id = ?", gone)
    _event(w, site, number, "received", "updated")
    if held:
        allocation.allocate_order(w, site, number)
    return "updated"


def cancel_order(w: SUDatabase, site: str, number: str) -> Outcome:
    """Cancel an order before picking starts, releasing its allocations; cancelling twice is
    `unchanged`. Refuses FO_PICKING_STARTED and FO_CLOSED (shipped)."""
    sid = site_id(w, site)
    found = fetch_rows(
        w, "SELECT * FROM fulfillment_orders WHERE site_id = ? AND number = ?", [sid, number]
    )
    if not found:
        raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": number})
    order = found[0]
    if order["status"] == "cancelled":
        return "unchanged"
    refuse_unless_open(order)
    released = allocation.release_order(w, order["id"])
    now = iso()
    w.execute(
        "UPDATE fulfillment_orders SET status = 'cancelled', updated_at = ?, cancelled_at = ? "
        "WHERE id = ?",
        [now, now, order["id"]],
    )
    w.execute(
        "UPDATE fo_lines SET status = 'cancelled', qty_short = 0 WHERE order_id = ?",
        [order["id"]],
    )
    emit(
        w,
        FO_CHANGED,
        {
            "site": site,
            "number": number,
            "status": "cancelled",
            "outcome": "cancelled",
            "released": released,
        },
    )
    return "cancelled"


# -- reading ----------------------------------------------------------------------------------
_HEADER = (
    "SELECT o.id, s.code AS site, o.number, o.status, o.ship_to_json, o.carrier_service, "
    "o.priority, o.promised_ship_date, o.owner, o.created_at, o.updated_at, o.cancelled_at "
    "FROM fulfillment_orders o JOIN sites s ON s.id = o.site_id "
)


def _header_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("id", "ship_to_json")}
    out["ship_to"] = json.loads(row["ship_to_json"])
    return out


def order_lines(source: Source, order_id: int) -> list[dict[str, Any]]:
    """The order's lines in line order (cancelled ones included) with qty ordered, allocated,
    short, status and the allocations (location, lot, LPN, qty)."""
    lines = fetch_rows(
        source,
        "SELECT fl.id, fl.line_no, i.sku, fl.qty_ordered, fl.qty_short, fl.status "
        "FROM fo_lines fl JOIN items i ON i.id = fl.item_id WHERE fl.order_id = ? "
        "ORDER BY fl.line_no",
        [order_id],
    )
    allocs = fetch_rows(
        source,
        "SELECT a.order_line_id, l.code AS location, l.type AS location_type, a.lot, a.lpn, "
        "a.qty FROM allocations a JOIN locations l ON l.id = a.location_id "
        "JOIN fo_lines fl ON fl.id = a.order_line_id WHERE fl.order_id = ? ORDER BY a.id",
        [order_id],
    )
    out = []
    for line in lines:
        mine = [
            {k: v for k, v in a.items() if k != "order_line_id"}
            for a in allocs
            if a["order_line_id"] == line["id"]
        ]
        out.append(
            {
                "line_no": line["line_no"],
                "sku": line["sku"],
                "qty_ordered": line["qty_ordered"],
                "qty_allocated": sum(a["qty"] for a in mine),
                "qty_short": line["qty_short"],
                "status": line["status"],
                "allocations": mine,
            }
        )
    return out


def get_order(
    source: Source, site: str, number: str, *, owner: str | None = None
) -> dict[str, Any] | None:
    """Order `number` (None if there is none — or, with `owner`, none of that owner's)."""
    found = fetch_rows(source, _HEADER + "WHERE s.code = ? AND o.number = ?", [site, number])
    if not found or (owner is not None and found[0]["owner"] != owner):
        return None
    out = _header_out(found[0])
    out["lines"] = order_lines(source, found[0]["id"])
    return out


def list_orders(
    source: Source,
    site: str,
    *,
    status: str | None = None,
    owner: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of the site's orders (of one owner's, with `owner`), highest priority first,
    then promised date, then number (no lines)."""
    where = ["s.code = ?"]
    params: list[Any] = [site]
    if status is not None:
        where.append("o.status = ?")
        params.append(status)
    if owner is not None:
        where.append("o.owner = ?")
        params.append(owner)
    cond = " AND ".join(where)
    total = fetch_rows(
        source,
        "SELECT COUNT(*) AS n FROM fulfillment_orders o JOIN sites s ON s.id = o.site_id "
        f"WHERE {cond}",
        params,
    )[0]["n"]
    rows = fetch_rows(
        source,
        _HEADER + f"WHERE {cond} ORDER BY o.priority DESC, "
        "COALESCE(o.promised_ship_date, '9999-12-31'), o.number LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {
        "items": [_header_out(r) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }
