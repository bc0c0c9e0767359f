"""Inventory commands by code (bin code, SKU): resolve, post to the ledger, emit the event.

Routes and scenario services call these; the ledger itself speaks ids.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.wms import ledger
from edge_server.wms.ledger import Actor, Movement, StockKey
from edge_server.wms.outbound.allocation import availability_snapshot
from protocols.errors import ErrorCode
from protocols.inventory import (
    AdjustmentIn,
    MoveIn,
    PickIn,
    ReceiptIn,
    ShipmentIn,
    StatusChangeIn,
)

INVENTORY_CHANGED = "inventory.changed"


def location_id(w: SUDatabase, site: str, code: str) -> int:
    row = w.execute(
        "SELECT l.id FROM locations l JOIN sites s ON s.id = l.site_id "
        "WHERE s.code = ? AND l.code = ? AND l.active = 1",
        [site, code],
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_LOCATION, details={"location": code})
    return int(row[0])


def item_id(w: SUDatabase, sku: str) -> int:
    row = w.execute("SELECT id FROM items WHERE sku = ?", [sku]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    return int(row[0])


def available(w: SUDatabase, site: str, item: int) -> int:
    row = w.execute(
        "SELECT COALESCE(SUM(st.qty), 0) FROM stock st "
        "JOIN locations l ON l.id = st.location_id JOIN sites s ON s.id = l.site_id "
        "WHERE s.code = ? AND st.item_id = ? AND st.status = 'available'",
        [site, item],
    ).fetchone()
    return int(row[0])


def _describe(w: SUDatabase, site: str, sku: str, mv: Movement) -> dict[str, Any]:
    codes = {
        r[0]: r[1]
        for r in w.execute(
            "SELECT id, code FROM locations WHERE id IN (?, ?)",
            [
                mv.source.location_id if mv.source else None,
                mv.target.location_id if mv.target else None,
            ],
        ).fetchall()
    }
    key = mv.source or mv.target
    assert key is not None
    return {
        "movement_id": mv.id,
        "type": mv.type,
        "sku": sku,
        "qty": mv.qty,
        "lot": key.lot,
        "from": (
            {
                "location": codes[mv.source.location_id],
                "lpn": mv.source.lpn,
                "status": mv.source.status,
            }
            if mv.source
            else None
        ),
        "to": (
            {
                "location": codes[mv.target.location_id],
                "lpn": mv.target.lpn,
                "status": mv.target.status,
            }
            if mv.target
            else None
        ),
    }


def announce(w: SUDatabase, site: str, sku: str, mv: Movement) -> dict[str, Any]:
    """After a ledger movement: emit `inventory.changed` in the same transaction, check the
    pick face it left for replenishment, and return the movement's view."""
    view = _describe(w, site, sku, mv)
    view["available"] = available(w, site, mv.item_id)
    # What the site can still promise of the SKU after this movement (the OMS's ATP feed).
    view["atp"] = availability_snapshot(w, site, [sku])[0].get(sku, 0)
    emit(w, INVENTORY_CHANGED, {"site": site, **view})
    if mv.source is not None:
        # Stock left a location: a pick face may now be below its min. Imported here because
        # replenishment moves stock through this module.
        from edge_server.wms.putaway.replenishment import check_replenishment

        check_replenishment(w, site, mv.source.location_id, mv.item_id)
    return view


def receive(w: SUDatabase, site: str, cmd: ReceiptIn, actor: Actor) -> dict[str, Any]:
    item = item_id(w, cmd.sku)
    key = StockKey(location_id(w, site, cmd.location), item, cmd.lot, cmd.lpn, cmd.status.value)
    mv = ledger.receive(
        w,
        key,
        cmd.qty,
        expiry=cmd.expiry.isoformat() if cmd.expiry else None,
        reason=cmd.reason,
        ref=cmd.ref,
        actor=actor,
    )
    return announce(w, site, cmd.sku, mv)


def move(w: SUDatabase, site: str, cmd: MoveIn, actor: Actor, kind: str = "move") -> dict[str, Any]:
    item = item_id(w, cmd.sku)
    source = StockKey(
        location_id(w, site, cmd.from_location), item, cmd.lot, cmd.lpn, cmd.status.value
    )
    mv = ledger.move(
        w,
        source,
        location_id(w, site, cmd.to_location),
        cmd.qty,
        to_lpn=cmd.to_lpn,
        movement_type=kind,
        ref=cmd.ref,
        actor=actor,
    )
    return announce(w, site, cmd.sku, mv)


def pick(w: SUDatabase, site: str, cmd: PickIn, actor: Actor) -> dict[str, Any]:
    as_move = MoveIn(
        from_location=cmd.from_location,
        to_location=cmd.to_location,
        sku=cmd.sku,
        qty=cmd.qty,
        lot=cmd.lot,
        lpn=cmd.lpn,
        to_lpn=cmd.to_lpn,
        ref=cmd.ref,
    )
    return move(w, site, as_move, actor, kind="pick")


def ship(w: SUDatabase, site: str, cmd: ShipmentIn, actor: Actor) -> dict[str, Any]:
    item = item_id(w, cmd.sku)
    source = StockKey(location_id(w, site, cmd.from_location), item, cmd.lot, cmd.lpn)
    mv = ledger.remove(w, source, cmd.qty, movement_type="ship", ref=cmd.ref, actor=actor)
    return announce(w, site, cmd.sku, mv)


def adjust(w: SUDatabase, site: str, cmd: AdjustmentIn, actor: Actor) -> dict[str, Any]:
    item = item_id(w, cmd.sku)
    key = StockKey(location_id(w, site, cmd.location), item, cmd.lot, cmd.lpn, cmd.status.value)
    mv = ledger.adjust(w, key, cmd.delta, reason=cmd.reason, actor=actor)
    return announce(w, site, cmd.sku, mv)


def change_status(w: SUDatabase, site: str, cmd: StatusChangeIn, actor: Actor) -> dict[str, Any]:
    if cmd.from_status == cmd.to_status:
        raise AislewayError(ErrorCode.VALIDATION_FAILED, text="The stock already has that status.")
    item = item_id(w, cmd.sku)
    source = StockKey(
        location_id(w, site, cmd.location), item, cmd.lot, cmd.lpn, cmd.from_status.value
    )
    mv = ledger.change_status(
        w, source, cmd.to_status.value, cmd.qty, reason=cmd.reason, actor=actor
    )
    return announce(w, site, cmd.sku, mv)


# -- reads ---------------------------------------------------------------------------------
def stock_page(
    db: Database,
    site: str,
    *,
    sku: str | None = None,
    location: str | None = None,
    lpn: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of stock rows; `owner` keeps one client's (its items', docs/clients.md)."""
    where = ["s.code = ?"]
    params: list[Any] = [site]
    for column, value in (
        ("i.sku", sku),
        ("l.code", location),
        ("st.lpn", lpn),
        ("st.status", status),
        ("i.owner", owner),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    joins = (
        "FROM stock st JOIN locations l ON l.id = st.location_id "
        "JOIN sites s ON s.id = l.site_id JOIN items i ON i.id = st.item_id "
        f"WHERE {' AND '.join(where)}"
    )
    rows = db.query(
        f"SELECT l.code AS location, i.sku, st.lot, st.lpn, st.status, st.qty {joins} "
        "ORDER BY l.code, i.sku, st.lot, st.lpn, st.status LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    total = db.query_one(f"SELECT COUNT(*) AS n {joins}", params)
    return {"items": rows, "total": total["n"] if total else 0, "limit": limit, "offset": offset}


def movement_page(
    db: Database,
    *,
    sku: str | None = None,
    location: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    where = ["m.id > ?"]
    params: list[Any] = [after_id]
    if sku is not None:
        where.append("i.sku = ?")
        params.append(sku)
    if location is not None:
        where.append("(lf.code = ? OR lt.code = ?)")
        params += [location, location]
    rows = db.query(
        "SELECT m.id, m.ts, m.type, i.sku, m.qty, m.lot, m.lpn, lf.code AS from_location, "
        "m.from_status, lt.code AS to_location, m.to_status, m.reason, m.ref "
        "FROM movements m JOIN items i ON i.id = m.item_id "
        "LEFT JOIN locations lf ON lf.id = m.from_location_id "
        "LEFT JOIN locations lt ON lt.id = m.to_location_id "
        f"WHERE {' AND '.join(where)} ORDER BY m.id LIMIT ?",
        [*params, limit],
    )
    full = len(rows) == limit
    return {"items": rows, "next_after": rows[-1]["id"] if full else None}
