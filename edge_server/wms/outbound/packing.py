"""Packing: what an order's totes hold, whether it is ready, cartons, SSCCs, carton types.

The packing scenario (`edge_server/scenarios/packing.py`) orchestrates these inside the
caller's write transaction. See docs/packing.md.

Picked goods are read from picking's records (migration m060): every pick line of the order
with `qty_picked > 0` put that much of (item, lot) into its `tote`, lying at its task's
`drop_location_id` (a packing location) under `lpn` = the tote code. What carton lines of the
order already took from a tote is subtracted; the rest is still to pack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.barcodes import gs1_check_digit
from protocols.errors import ErrorCode
from protocols.packing import CartonTypeIn

__all__ = [
    "PACK_EVENT_KINDS",
    "Remaining",
    "carton_lines",
    "carton_type",
    "cartons",
    "format_sscc",
    "list_carton_types",
    "missing_picks",
    "next_sscc",
    "order_by_id",
    "order_by_number",
    "order_for_tote",
    "put_carton_type",
    "record_pack_event",
    "remaining",
    "tote_view",
]

Row = dict[str, Any]
PACK_EVENT_KINDS = ("verified", "not_in_order", "over_scanned", "sealed")
SSCC_EXTENSION = 0  # extension digit of carton SSCCs


def _one(source: Source, sql: str, params: list[Any]) -> Row | None:
    found = fetch_rows(source, sql, params)
    return found[0] if found else None


# -- orders --------------------------------------------------------------------------------
def order_by_number(source: Source, sid: int, number: str) -> Row | None:
    return _one(
        source, "SELECT * FROM fulfillment_orders WHERE site_id = ? AND number = ?", [sid, number]
    )


def order_by_id(source: Source, order_id: int) -> Row:
    row = _one(source, "SELECT * FROM fulfillment_orders WHERE id = ?", [order_id])
    assert row is not None
    return row


@dataclass(slots=True)
class Remaining:
    """Picked goods of one order line in one tote, and how many are not in a carton yet."""

    order_line_id: int
    line_no: int
    item_id: int
    sku: str
    description: str
    lot_tracked: bool
    lot: str
    tote: str
    location_id: int
    location: str
    picked: int
    packed: int

    @property
    def left(self) -> int:
        return self.picked - self.packed


_PICKED = """
SELECT pl.order_line_id, fl.line_no, pl.item_id, i.sku, i.description, i.lot_tracked, pl.lot,
       pl.tote, l.id AS location_id, l.code AS location, SUM(pl.qty_picked) AS picked
FROM pick_lines pl
JOIN pick_tasks pt ON pt.id = pl.task_id
JOIN fo_lines fl ON fl.id = pl.order_line_id
JOIN items i ON i.id = pl.item_id
JOIN locations l ON l.id = pt.drop_location_id
WHERE fl.order_id = ? AND pl.status IN ('picked', 'short') AND pl.qty_picked > 0
  AND pl.tote IS NOT NULL AND pl.tote != ''
GROUP BY pl.order_line_id, pl.item_id, pl.lot, pl.tote, l.id
ORDER BY fl.line_no, pl.tote, pl.lot
"""

_PACKED = """
SELECT cl.order_line_id, cl.item_id, cl.lot, cl.tote, cl.from_location_id, SUM(cl.qty) AS qty
FROM carton_lines cl JOIN cartons c ON c.id = cl.carton_id
WHERE c.order_id = ?
GROUP BY cl.order_line_id, cl.item_id, cl.lot, cl.tote, cl.from_location_id
"""


def remaining(source: Source, order_id: int) -> list[Remaining]:
    """Every (order line, item, lot, tote) the order's picking put in a tote, with what
    cartons (open or sealed) of the order took from it."""
    packed = {
        (r["order_line_id"], r["item_id"], r["lot"], r["tote"], r["from_location_id"]): r["qty"]
        for r in fetch_rows(source, _PACKED, [order_id])
    }
    return [
        Remaining(
            order_line_id=r["order_line_id"],
            line_no=r["line_no"],
            item_id=r["item_id"],
            sku=r["sku"],
            description=r["description"],
            lot_tracked=bool(r["lot_tracked"]),
            lot=r["lot"],
            tote=r["tote"],
            location_id=r["location_id"],
            location=r["location"],
            picked=int(r["picked"]),
            packed=int(
                packed.get(
                    (r["order_line_id"], r["item_id"], r["lot"], r["tote"], r["location_id"]), 0
                )
            ),
        )
        for r in fetch_rows(source, _PICKED, [order_id])
    ]


def missing_picks(source: Source, order_id: int) -> dict[str, list[Row]]:
    """What keeps an order from packing: pick lines still open, and stock still allocated
    (reserved but not picked). Both empty: ready."""
    open_picks = fetch_rows(
        source,
        "SELECT fl.line_no, i.sku, pl.lot, pl.qty - pl.qty_picked - pl.qty_short AS qty, "
        "l.code AS location, pt.zone, pl.task_id, pl.tote FROM pick_lines pl "
        "JOIN pick_tasks pt ON pt.id = pl.task_id JOIN fo_lines fl ON fl.id = pl.order_line_id "
        "JOIN items i ON i.id = pl.item_id JOIN locations l ON l.id = pl.location_id "
        "WHERE fl.order_id = ? AND pl.status = 'open' ORDER BY fl.line_no, pl.id",
        [order_id],
    )
    allocated = fetch_rows(
        source,
        "SELECT fl.line_no, i.sku, a.lot, a.qty, l.code AS location FROM allocations a "
        "JOIN fo_lines fl ON fl.id = a.order_line_id JOIN items i ON i.id = a.item_id "
        "JOIN locations l ON l.id = a.location_id WHERE fl.order_id = ? ORDER BY fl.line_no, a.id",
        [order_id],
    )
    return {"open_picks": open_picks, "allocated": allocated}


def order_for_tote(source: Source, sid: int, tote: str) -> int | None:
    """The order a tote holds goods for: the newest not-closed order with picked goods of
    its own in the tote not yet packed, else the newest not-closed order picking into it."""
    rows = fetch_rows(
        source,
        "SELECT DISTINCT o.id FROM pick_lines pl JOIN fo_lines fl ON fl.id = pl.order_line_id "
        "JOIN fulfillment_orders o ON o.id = fl.order_id "
        "WHERE o.site_id = ? AND pl.tote = ? AND o.status NOT IN ('shipped', 'cancelled') "
        "ORDER BY o.id DESC",
        [sid, tote],
    )
    for row in rows:
        if any(r.tote == tote and r.left > 0 for r in remaining(source, row["id"])):
            return int(row["id"])
    bound = _one(
        source,
        "SELECT o.id FROM pick_task_orders pto JOIN fulfillment_orders o ON o.id = pto.order_id "
        "WHERE o.site_id = ? AND pto.tote = ? AND o.status NOT IN ('packed', 'shipped', "
        "'cancelled') ORDER BY o.id DESC LIMIT 1",
        [sid, tote],
    )
    return int(bound["id"]) if bound else None


def tote_view(rows: list[Remaining], present: list[str]) -> list[Row]:
    """The order's totes: where each lies, units still to pack, whether it is at the station."""
    out: dict[str, Row] = {}
    for r in rows:
        view = out.setdefault(
            r.tote, {"tote": r.tote, "location": r.location, "units_left": 0, "here": False}
        )
        view["units_left"] += r.left
        view["here"] = r.tote in present
    return sorted(out.values(), key=lambda v: v["tote"])


# -- cartons -------------------------------------------------------------------------------
def cartons(source: Source, order_id: int) -> list[Row]:
    return fetch_rows(
        source,
        "SELECT c.*, l.code AS location FROM cartons c "
        "LEFT JOIN locations l ON l.id = c.location_id WHERE c.order_id = ? ORDER BY c.carton_no",
        [order_id],
    )


def carton_lines(source: Source, carton_id: int) -> list[Row]:
    """A carton's contents by order line, item and lot (totes summed)."""
    return fetch_rows(
        source,
        "SELECT fl.line_no, i.sku, cl.lot, SUM(cl.qty) AS qty FROM carton_lines cl "
        "JOIN fo_lines fl ON fl.id = cl.order_line_id JOIN items i ON i.id = cl.item_id "
        "WHERE cl.carton_id = ? GROUP BY cl.order_line_id, cl.item_id, cl.lot "
        "ORDER BY fl.line_no, cl.lot",
        [carton_id],
    )


def format_sscc(prefix: str, serial: int, extension: int = SSCC_EXTENSION) -> str:
    """The 18-digit SSCC: extension digit, GS1 company prefix, serial reference, check digit."""
    width = 16 - len(prefix)
    if not prefix.isdigit() or not 6 <= len(prefix) <= 12 or not 0 <= extension <= 9:
        raise ValueError(f"not a GS1 company prefix: {prefix!r}")
    if not 0 <= serial < 10**width:
        raise ValueError(f"serial reference {serial} does not fit {width} digits")
    body = f"{extension}{prefix}{serial:0{width}d}"
    return body + str(gs1_check_digit(body))


def next_sscc(w: SUDatabase, sid: int, prefix: str) -> str:
    """The site's next unused carton SSCC (a per-site serial, skipping any SSCC already on
    stock or a carton, e.g. from a restored backup)."""
    w.execute("INSERT OR IGNORE INTO sscc_serials (site_id, last_serial) VALUES (?, 0)", [sid])
    while True:
        row = w.execute(
            "UPDATE sscc_serials SET last_serial = last_serial + 1 WHERE site_id = ? "
            "RETURNING last_serial",
            [sid],
        ).fetchone()
        try:
            sscc = format_sscc(prefix, int(row[0]))
        except ValueError as exc:
            raise AislewayError(ErrorCode.LABEL_DATA_INVALID, details={"sscc": str(exc)}) from exc
        used = w.execute(
            "SELECT 1 FROM cartons WHERE sscc = ? UNION ALL SELECT 1 FROM stock WHERE lpn = ?",
            [sscc, sscc],
        ).fetchone()
        if used is None:
            return sscc


# -- carton types --------------------------------------------------------------------------
def _carton_type_view(row: Row) -> Row:
    keys = ("code", "description", "length_cm", "width_cm", "height_cm", "tare_kg")
    view = {k: row[k] for k in keys}
    view |= {
        "max_weight_kg": row["max_weight_kg"],
        "active": bool(row["active"]),
        "updated_at": row["updated_at"],
    }
    return view


def put_carton_type(w: SUDatabase, sid: int, code: str, body: CartonTypeIn) -> tuple[str, Row]:
    """Create or replace carton type `code`; ('created' | 'updated' | 'unchanged', view)."""
    if body.tare_kg >= body.max_weight_kg:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="The empty weight must be below the carton's maximum weight.",
            details={"tare_kg": body.tare_kg, "max_weight_kg": body.max_weight_kg},
        )
    values = [
        body.description,
        body.length_cm,
        body.width_cm,
        body.height_cm,
        body.tare_kg,
        body.max_weight_kg,
        int(body.active),
    ]
    found = _one(w, "SELECT * FROM carton_types WHERE site_id = ? AND code = ?", [sid, code])
    if found is not None:
        old = [
            found[k]
            for k in (
                "description",
                "length_cm",
                "width_cm",
                "height_cm",
                "tare_kg",
                "max_weight_kg",
                "active",
            )
        ]
        if old == values:
            return "unchanged", _carton_type_view(found)
    w.execute(
        "INSERT INTO carton_types (site_id, code, description, length_cm, width_cm, height_cm, "
        "tare_kg, max_weight_kg, active, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (site_id, code) DO UPDATE SET description = excluded.description, "
        "length_cm = excluded.length_cm, width_cm = excluded.width_cm, "
        "height_cm = excluded.height_cm, tare_kg = excluded.tare_kg, "
        "max_weight_kg = excluded.max_weight_kg, active = excluded.active, "
        "updated_at = excluded.updated_at",
        [sid, code, *values, iso()],
    )
    row = carton_type(w, sid, code, active_only=False)
    return ("updated" if found else "created"), _carton_type_view(row)


def carton_type(source: Source, sid: int, code: str, *, active_only: bool = True) -> Row:
    row = _one(source, "SELECT * FROM carton_types WHERE site_id = ? AND code = ?", [sid, code])
    if row is None or (active_only and not row["active"]):
        raise AislewayError(ErrorCode.PACK_CARTON_TYPE_UNKNOWN, details={"carton_type": code})
    return row


def list_carton_types(source: Source, sid: int, *, include_inactive: bool = False) -> list[Row]:
    rows = fetch_rows(
        source,
        "SELECT * FROM carton_types WHERE site_id = ? AND (active = 1 OR ?) ORDER BY code",
        [sid, int(include_inactive)],
    )
    return [_carton_type_view(r) for r in rows]


# -- events --------------------------------------------------------------------------------
def record_pack_event(
    w: SUDatabase,
    *,
    site_id: int,
    kind: str,
    session_id: int | None = None,
    order_id: int | None = None,
    sku: str = "",
    lot: str = "",
    qty: int = 0,
    detail: dict[str, Any] | None = None,
    user_id: int | None = None,
    device_id: int | None = None,
    idem: str | None = None,
) -> None:
    """One row of packing's accuracy record; a repeated `idem` is ignored."""
    w.execute(
        "INSERT OR IGNORE INTO pack_events (site_id, session_id, order_id, kind, sku, lot, qty, "
        "detail_json, user_id, device_id, idem, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            site_id,
            session_id,
            order_id,
            kind,
            sku,
            lot,
            qty,
            json.dumps(detail or {}, separators=(",", ":")),
            user_id,
            device_id,
            idem,
            iso(),
        ],
    )
