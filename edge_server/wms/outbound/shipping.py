"""Shipping: ship confirm of a packed order, the shipment view, wrong items reported later.

Ship confirm (inside the caller's write transaction) takes every sealed carton's stock off
the books (movement `ship`, ref the order number), marks the cartons and the order shipped,
and emits `shipment.created` with cartons, contents and tracking, then
`fulfillment_order.changed`. See docs/packing.md#ship-confirm.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import edi_outbound, inventory
from edge_server.wms.ledger import Actor
from edge_server.wms.outbound import packing as pk
from edge_server.wms.outbound.allocation import FO_CHANGED
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode
from protocols.inventory import ShipmentIn
from protocols.packing import WrongItemsIn

__all__ = [
    "SHIPMENT_CREATED",
    "confirm_shipment",
    "report_wrong_items",
    "shipment_view",
    "wrong_items_units",
    "wrong_shipments_summary",
]

SHIPMENT_CREATED = "shipment.created"
Row = dict[str, Any]


def _order(source: Source, site: str, number: str) -> Row:
    found = pk.order_by_number(source, site_id(source, site), number)
    if found is None:
        raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": number})
    return found


def _lines(source: Source, order_id: int) -> list[Row]:
    """Per order line: ordered, in sealed or shipped cartons, and short of the order."""
    rows = fetch_rows(
        source,
        "SELECT fl.line_no, i.sku, fl.qty_ordered, COALESCE((SELECT SUM(cl.qty) "
        "FROM carton_lines cl JOIN cartons c ON c.id = cl.carton_id "
        "WHERE cl.order_line_id = fl.id AND c.status IN ('sealed', 'shipped')), 0) AS qty_shipped "
        "FROM fo_lines fl JOIN items i ON i.id = fl.item_id "
        "WHERE fl.order_id = ? AND fl.status != 'cancelled' ORDER BY fl.line_no",
        [order_id],
    )
    return [r | {"qty_short": max(r["qty_ordered"] - r["qty_shipped"], 0)} for r in rows]


def _cartons(source: Source, order_id: int) -> list[Row]:
    return [
        {
            "carton_no": c["carton_no"],
            "status": c["status"],
            "sscc": c["sscc"],
            "tracking": c["tracking"],
            "carrier": c["carrier"],
            "carton_type": c["carton_type"],
            "weight_kg": c["weight_kg"],
            "location": c["location"],
            "contents": [
                {"sku": x["sku"], "lot": x["lot"], "qty": x["qty"]}
                for x in pk.carton_lines(source, c["id"])
            ],
        }
        for c in pk.cartons(source, order_id)
        if c["status"] != "open"
    ]


def confirm_shipment(w: SUDatabase, site: str, number: str, *, actor: Actor, note: str = "") -> Row:
    """Ship a packed order. SHIP_NOT_PACKED, SHIP_ALREADY_SHIPPED, SHIP_ORDER_CANCELLED (or
    FO_NOT_FOUND) refuse it, changing nothing. Returns the shipment view."""
    order = _order(w, site, number)
    details = {"number": number, "status": order["status"]}
    if order["status"] == "shipped":
        raise AislewayError(ErrorCode.SHIP_ALREADY_SHIPPED, details=details)
    if order["status"] == "cancelled":
        raise AislewayError(ErrorCode.SHIP_ORDER_CANCELLED, details=details)
    if order["status"] != "packed":
        raise AislewayError(ErrorCode.SHIP_NOT_PACKED, details=details)
    now = iso()
    sealed = [c for c in pk.cartons(w, order["id"]) if c["status"] == "sealed"]
    for carton in sealed:
        for line in pk.carton_lines(w, carton["id"]):
            inventory.ship(
                w,
                site,
                ShipmentIn(
                    from_location=carton["location"],
                    sku=line["sku"],
                    qty=line["qty"],
                    lot=line["lot"],
                    lpn=carton["sscc"],
                    ref=number,
                ),
                actor,
            )
    w.execute(
        "UPDATE cartons SET status = 'shipped', shipped_at = ? WHERE order_id = ? "
        "AND status = 'sealed'",
        [now, order["id"]],
    )
    w.execute(
        "UPDATE fulfillment_orders SET status = 'shipped', updated_at = ? WHERE id = ?",
        [now, order["id"]],
    )
    cartons = _cartons(w, order["id"])
    payload = {
        "site": site,
        "number": number,
        "carrier_service": order["carrier_service"],
        "shipped_at": now,
        "cartons": [
            {k: c[k] for k in ("sscc", "tracking", "carton_type", "weight_kg", "contents")}
            for c in cartons
        ],
        "lines": _lines(w, order["id"]),
    }
    w.execute(
        "INSERT INTO shipments (site_id, order_id, carrier_service, cartons, units, note, "
        "payload_json, shipped_at, shipped_by) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            order["site_id"],
            order["id"],
            order["carrier_service"],
            len(cartons),
            sum(x["qty"] for c in cartons for x in c["contents"]),
            note,
            json.dumps(payload, separators=(",", ":")),
            now,
            actor.user_id,
        ],
    )
    emit(w, SHIPMENT_CREATED, payload)
    # an order that came from a 940 owes its client a 945, in this same transaction
    edi_outbound.advise_shipment(w, order["site_id"], number, payload)
    emit(w, FO_CHANGED, {"site": site, "number": number, "status": "shipped", "outcome": "shipped"})
    return shipment_view(w, site, number)


def shipment_view(source: Source, site: str, number: str) -> Row:
    """The order's cartons (sealed or shipped) with SSCC, tracking and contents, its lines
    and, once shipped, when and the wrong items reported since."""
    order = _order(source, site, number)
    shipped = fetch_rows(source, "SELECT * FROM shipments WHERE order_id = ?", [order["id"]])
    wrong = (
        fetch_rows(
            source,
            "SELECT i.sku, ws.qty, ws.note, ws.reported_at FROM wrong_shipments ws "
            "JOIN items i ON i.id = ws.item_id WHERE ws.shipment_id = ? ORDER BY ws.id",
            [shipped[0]["id"]],
        )
        if shipped
        else []
    )
    return {
        "number": number,
        "status": order["status"],
        "carrier_service": order["carrier_service"],
        "shipped_at": shipped[0]["shipped_at"] if shipped else None,
        "cartons": _cartons(source, order["id"]),
        "lines": _lines(source, order["id"]),
        "wrong_items": wrong,
    }


def report_wrong_items(
    w: SUDatabase, site: str, number: str, body: WrongItemsIn, *, reported_by: str
) -> Row:
    """Record goods that shipped with order `number` but should not have (found through a
    return). SHIP_NOT_SHIPPED before the order shipped; UNKNOWN_ITEM for an unknown SKU."""
    order = _order(w, site, number)
    shipped = fetch_rows(w, "SELECT id FROM shipments WHERE order_id = ?", [order["id"]])
    if not shipped:
        raise AislewayError(
            ErrorCode.SHIP_NOT_SHIPPED, details={"number": number, "status": order["status"]}
        )
    item = fetch_rows(w, "SELECT id FROM items WHERE sku = ?", [body.sku])
    if not item:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": body.sku})
    cur = w.execute(
        "INSERT INTO wrong_shipments (site_id, shipment_id, item_id, qty, note, reported_by, "
        "reported_at) VALUES (?,?,?,?,?,?,?)",
        [
            order["site_id"],
            shipped[0]["id"],
            item[0]["id"],
            body.qty,
            body.note,
            reported_by,
            iso(),
        ],
    )
    return {"id": int(cur.lastrowid or 0), "number": number, "sku": body.sku, "qty": body.qty}


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _wrong(source: Source, sid: int, lo: str, hi: str) -> Row:
    # Wrong items count against the period their shipment left in.
    return fetch_rows(
        source,
        "SELECT COUNT(DISTINCT ws.shipment_id) AS shipments, COALESCE(SUM(ws.qty), 0) AS units "
        "FROM wrong_shipments ws JOIN shipments s ON s.id = ws.shipment_id "
        "WHERE ws.site_id = ? AND s.shipped_at >= ? AND s.shipped_at < ?",
        [sid, lo, hi],
    )[0]


def wrong_items_units(
    source: Source, sid: int, since: datetime | None = None, until: datetime | None = None
) -> int:
    """Units of wrong items reported for shipments of site id `sid` that left in
    [since, until) (the pick accuracy KPI's `wrong_items_shipped`)."""
    lo = iso(_utc(since)) if since else ""
    hi = iso(_utc(until)) if until else "9999"
    return int(_wrong(source, sid, lo, hi)["units"])


def wrong_shipments_summary(
    source: Source, site: str, since: datetime | None = None, until: datetime | None = None
) -> Row:
    """Packing and shipping's share of pick accuracy over [since, until): shipments, units
    shipped, wrong items shipped (reported later) and their rate per shipment, and the
    mis-scans packing caught before sealing."""
    sid = site_id(source, site)
    lo = iso(_utc(since)) if since else ""
    hi = iso(_utc(until)) if until else "9999"
    ships = fetch_rows(
        source,
        "SELECT COUNT(*) AS n, COALESCE(SUM(units), 0) AS units FROM shipments "
        "WHERE site_id = ? AND shipped_at >= ? AND shipped_at < ?",
        [sid, lo, hi],
    )[0]
    wrong = _wrong(source, sid, lo, hi)
    caught = {
        r["kind"]: int(r["n"])
        for r in fetch_rows(
            source,
            "SELECT kind, COUNT(*) AS n FROM pack_events WHERE site_id = ? "
            "AND kind IN ('not_in_order', 'over_scanned') AND created_at >= ? AND created_at < ? "
            "GROUP BY kind",
            [sid, lo, hi],
        )
    }
    shipments = int(ships["n"])
    return {
        "shipments": shipments,
        "units_shipped": int(ships["units"]),
        "wrong_items_shipped": int(wrong["units"]),
        "shipments_with_wrong_items": int(wrong["shipments"]),
        "wrong_shipment_rate": (
            round(int(wrong["shipments"]) / shipments, 4) if shipments else None
        ),
        "pack_mis_scans_caught": sum(caught.values()),
        "pack_not_in_order": caught.get("not_in_order", 0),
        "pack_over_scanned": caught.get("over_scanned", 0),
    }
