"""Pick-face replenishment: min/max rules per bin and item, and the tasks that refill a pick
face from reserve when stock leaving it takes it below its min.

`check_replenishment` runs inside every ledger command that takes stock out of a location
(`edge_server.wms.inventory`), so a pick, move, shipment or loss that empties a pick face
creates its refill in the same transaction.
"""

from __future__ import annotations

import math
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms import inventory
from edge_server.wms.distances import site_travel
from edge_server.wms.ledger import Actor
from edge_server.wms.putaway.tasks import insert_task
from protocols.errors import ErrorCode

__all__ = ["check_replenishment", "list_rules", "set_rule"]


def set_rule(
    w: SUDatabase, site: str, *, location: str, sku: str, min_qty: int, max_qty: int
) -> dict[str, Any]:
    """Create or change the min/max of `sku` at pick face `location`, then check it at once."""
    loc = inventory.location_id(w, site, location)
    item = inventory.item_id(w, sku)
    row = w.execute("SELECT type, site_id FROM locations WHERE id = ?", [loc]).fetchone()
    if row[0] != "pick_face":
        raise AislewayError(
            ErrorCode.REPLENISHMENT_NOT_PICK_FACE, details={"location": location, "type": row[0]}
        )
    if min_qty < 0 or max_qty <= min_qty:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="The max must be above the min, and the min at least 0.",
            details={"min_qty": min_qty, "max_qty": max_qty},
        )
    w.execute(
        "INSERT INTO replenishment_rules (site_id, location_id, item_id, min_qty, max_qty, "
        "updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT (location_id, item_id) DO UPDATE SET "
        "min_qty = excluded.min_qty, max_qty = excluded.max_qty, updated_at = excluded.updated_at",
        [row[1], loc, item, min_qty, max_qty, iso()],
    )
    tasks = check_replenishment(w, site, loc, item)
    return {
        "location": location,
        "sku": sku,
        "min_qty": min_qty,
        "max_qty": max_qty,
        "tasks": tasks,
    }


def list_rules(db: Database, site: str) -> list[dict[str, Any]]:
    return db.query(
        "SELECT l.code AS location, i.sku, r.min_qty, r.max_qty, r.updated_at, "
        "COALESCE((SELECT SUM(qty) FROM stock st WHERE st.location_id = r.location_id "
        "AND st.item_id = r.item_id AND st.status = 'available'), 0) AS on_hand "
        "FROM replenishment_rules r JOIN locations l ON l.id = r.location_id "
        "JOIN sites s ON s.id = r.site_id JOIN items i ON i.id = r.item_id "
        "WHERE s.code = ? ORDER BY l.code, i.sku",
        [site],
    )


def check_replenishment(w: SUDatabase, site: str, location_id: int, item_id: int) -> list[int]:
    """If `item_id` at pick face `location_id` has a rule and its stock plus open refills is
    below the min, create refill tasks up to the max from reserve: earliest expiry first
    (FEFO), then oldest lot or stock (FIFO), then the reserve bin nearest the pick face.
    Returns the task ids made (none when no rule, no need, or no reserve stock)."""
    rule = w.execute(
        "SELECT min_qty, max_qty, site_id FROM replenishment_rules "
        "WHERE location_id = ? AND item_id = ?",
        [location_id, item_id],
    ).fetchone()
    if rule is None:
        return []
    min_qty, max_qty, site_id = int(rule[0]), int(rule[1]), int(rule[2])
    on_hand, coming = w.execute(
        "SELECT COALESCE((SELECT SUM(qty) FROM stock WHERE location_id = ?1 AND item_id = ?2 "
        "AND status = 'available'), 0), COALESCE((SELECT SUM(qty) FROM stock_tasks "
        "WHERE to_location_id = ?1 AND item_id = ?2 AND kind = 'replenish' "
        "AND status = 'open'), 0)",
        [location_id, item_id],
    ).fetchone()
    if on_hand + coming >= min_qty:
        return []
    need = max_qty - on_hand - coming
    sources = w.execute(
        "SELECT st.location_id, l.code, st.lot, st.lpn, st.qty - COALESCE((SELECT SUM(t.qty) "
        "FROM stock_tasks t WHERE t.status = 'open' AND t.from_location_id = st.location_id "
        "AND t.item_id = st.item_id AND t.lot = st.lot AND t.lpn = st.lpn "
        "AND t.stock_status = st.status), 0) - COALESCE((SELECT SUM(a.qty) FROM allocations a "
        "WHERE a.location_id = st.location_id AND a.item_id = st.item_id AND a.lot = st.lot "
        "AND a.lpn = st.lpn), 0) AS free, lo.expiry, lo.rowid, st.id "
        "FROM stock st JOIN locations l ON l.id = st.location_id "
        "LEFT JOIN lots lo ON lo.item_id = st.item_id AND lo.lot = st.lot "
        "WHERE l.site_id = ? AND l.active = 1 AND l.type = 'reserve' AND st.item_id = ? "
        "AND st.status = 'available'",
        [site_id, item_id],
    ).fetchall()
    sources = [s for s in sources if s[4] > 0]
    if not sources:
        return []
    to_code = w.execute("SELECT code FROM locations WHERE id = ?", [location_id]).fetchone()[0]
    try:
        travel = site_travel(w, site)
        here = travel.from_node(travel.node(to_code))

        def metres(code: str) -> float:
            return here[travel.node(code)]
    except AislewayError:  # no layout loaded (or the bin is not in it): distance unknown

        def metres(code: str) -> float:
            return 0.0

    def order(s: Any) -> tuple[str, float, float, int]:
        lot_age = s[6] if s[2] and s[6] is not None else math.inf
        return (s[5] or "9999-99-99", lot_age, metres(s[1]), s[7])

    ids: list[int] = []
    for s in sorted(sources, key=order):
        if need <= 0:
            break
        qty = min(need, int(s[4]))
        expiry = f", expires {s[5]}" if s[5] else ""
        lot = f" lot {s[2]}" if s[2] else ""
        ids.append(
            insert_task(
                w,
                site_id=site_id,
                kind="replenish",
                item_id=item_id,
                lot=s[2],
                lpn=s[3],
                status="available",
                qty=qty,
                from_id=int(s[0]),
                to_id=location_id,
                reason=(
                    f"{to_code} has {on_hand} (min {min_qty}, max {max_qty}); {qty} from "
                    f"{s[1]}{lot}{expiry}, {metres(s[1]):.0f} m away"
                ),
                alternates=[],
                excluded=[],
                ref=f"replenish-{to_code}",
                actor=Actor(),
            )
        )
        need -= qty
    return ids
