"""Pick tasks: a routed trip over the orders' allocations.

A task picks, for one or more fulfillment orders (each at a cart position 1..N), the stock
reserved for them (`allocations`). It has one pick line per allocation — only allocations in
the task's zone for a zone task — in the order `route()` walks the site's layout from the
depot through every bin and back (lines at one bin are consecutive, by cart position). Picked
totes go to the site's first active `packing` location (by code). See docs/picking.md.

An allocation is in at most one open pick line: what a new task may take from an order line's
stock key is its allocated quantity minus what open lines of open tasks still have to pick
there. An order with nothing left to take is refused (PICK_NOTHING_TO_PICK).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms.layout import Layout, layout_from_json
from edge_server.wms.outbound.allocation import FO_CHANGED
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from edge_server.wms.routing.router import route, route_length
from protocols.errors import ErrorCode

__all__ = [
    "OPEN_TASK_STATUSES",
    "PICKABLE_ORDER_STATUSES",
    "STRATEGIES",
    "Strategy",
    "create_pick_task",
    "drop_location",
    "open_line_qty",
    "resequence_open_lines",
    "site_layout",
    "unpicked_allocations",
]

Strategy = Literal["discrete", "batch", "zone"]
STRATEGIES: tuple[str, ...] = ("discrete", "batch", "zone")
OPEN_TASK_STATUSES = ("open", "in_progress")
#: Orders a task may pick for: allocated, backordered with some stock allocated, or already
#: picking (zone picking makes one task per zone for the same order).
PICKABLE_ORDER_STATUSES = ("allocated", "backordered", "picking")


def site_layout(source: Source, site: str) -> Layout:
    """The layout last loaded for `site`; LAYOUT_NOT_LOADED when there is none."""
    rows = fetch_rows(source, "SELECT layout_json FROM sites WHERE code = ?", [site])
    if not rows or not rows[0]["layout_json"]:
        raise AislewayError(ErrorCode.LAYOUT_NOT_LOADED, details={"site": site})
    return layout_from_json(rows[0]["layout_json"])


def drop_location(source: Source, sid: int) -> dict[str, Any]:
    """The first active packing location of the site by code: where picked totes go."""
    rows = fetch_rows(
        source,
        "SELECT id, code FROM locations WHERE site_id = ? AND type = 'packing' AND active = 1 "
        "ORDER BY code LIMIT 1",
        [sid],
    )
    if not rows:
        raise AislewayError(ErrorCode.PICK_NO_PACKING_LOCATION)
    return rows[0]


def open_line_qty(
    source: Source,
    order_line_id: int,
    location_id: int,
    item_id: int,
    lot: str,
    lpn: str,
    *,
    exclude_line_id: int | None = None,
) -> int:
    """What open pick lines of open tasks still have to pick of one order line's stock key."""
    rows = fetch_rows(
        source,
        "SELECT COALESCE(SUM(pl.qty - pl.qty_picked - pl.qty_short), 0) AS n "
        "FROM pick_lines pl JOIN pick_tasks t ON t.id = pl.task_id "
        f"WHERE t.status IN {OPEN_TASK_STATUSES!r} AND pl.status = 'open' "
        "AND pl.order_line_id = ? AND pl.location_id = ? AND pl.item_id = ? AND pl.lot = ? "
        "AND pl.lpn = ? AND pl.id != ?",
        [order_line_id, location_id, item_id, lot, lpn, exclude_line_id or 0],
    )
    return int(rows[0]["n"])


def unpicked_allocations(
    source: Source, order_id: int, *, zone: str | None = None
) -> list[dict[str, Any]]:
    """The order's allocations (per order line and stock key) not yet in an open pick line,
    with `qty` what is left to put in a task; only those in `zone` when given."""
    zone_sql = " AND z.code = ?" if zone is not None else ""
    params: list[Any] = [order_id] + ([zone] if zone is not None else [])
    keys = fetch_rows(
        source,
        "SELECT a.order_line_id, a.location_id, a.item_id, a.lot, a.lpn, SUM(a.qty) AS qty, "
        "MIN(a.id) AS first_id, l.code AS location, fl.line_no "
        "FROM allocations a JOIN fo_lines fl ON fl.id = a.order_line_id "
        "JOIN locations l ON l.id = a.location_id LEFT JOIN zones z ON z.id = l.zone_id "
        f"WHERE fl.order_id = ? AND fl.status != 'cancelled'{zone_sql} "
        "GROUP BY a.order_line_id, a.location_id, a.item_id, a.lot, a.lpn "
        "ORDER BY fl.line_no, first_id",
        params,
    )
    out = []
    for k in keys:
        left = int(k["qty"]) - open_line_qty(
            source, k["order_line_id"], k["location_id"], k["item_id"], k["lot"], k["lpn"]
        )
        if left > 0:
            out.append(k | {"qty": left})
    return out


def _check_args(
    w: SUDatabase,
    sid: int,
    strategy: str,
    order_ids: Sequence[int],
    wave_id: int | None,
    zone: str | None,
) -> None:
    problems: dict[str, str] = {}
    if strategy not in STRATEGIES:
        problems["strategy"] = f"one of {', '.join(STRATEGIES)}"
    if not order_ids:
        problems["order_ids"] = "at least one order"
    elif len(set(order_ids)) != len(order_ids):
        problems["order_ids"] = "each order once"
    elif strategy == "discrete" and len(order_ids) != 1:
        problems["order_ids"] = "a discrete task picks exactly one order"
    if strategy == "zone" and not zone:
        problems["zone"] = "a zone task needs the zone code"
    elif strategy != "zone" and zone is not None:
        problems["zone"] = "only zone tasks name a zone"
    elif zone is not None and not fetch_rows(
        w, "SELECT 1 FROM zones WHERE site_id = ? AND code = ?", [sid, zone]
    ):
        problems["zone"] = f"no zone {zone} at this site"
    if wave_id is not None and not fetch_rows(
        w, "SELECT 1 FROM waves WHERE id = ? AND site_id = ?", [wave_id, sid]
    ):
        problems["wave_id"] = f"no wave {wave_id} at this site"
    if problems:
        raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"fields": problems})


def _route_lines(
    layout: Layout, lines: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], float, str]:
    """The lines in walking order (`position` then `line_no` break ties at one bin), the
    route's length and method."""
    tour = route(layout, {ln["location"] for ln in lines})
    stop = {code: i for i, code in enumerate(tour.sequence)}
    ordered = sorted(
        lines,
        key=lambda ln: (stop[ln["location"]], ln["position"], ln["line_no"], ln.get("tie", 0)),
    )
    return ordered, tour.length, tour.method


def create_pick_task(
    w: SUDatabase,
    site: str,
    *,
    strategy: Strategy,
    order_ids: Sequence[int],
    wave_id: int | None = None,
    zone: str | None = None,
) -> int:
    """Create one task picking the current allocations of `order_ids` (only those in `zone`
    when given), cart positions 1..N in the given order, lines in route order from the depot
    and back; returns the task id. Orders move to status `picking`.

    Refuses (nothing written): VALIDATION_FAILED (strategy, zone, wave, order list),
    FO_NOT_FOUND, PICK_ORDER_NOT_READY (order not allocated/backordered/picking),
    PICK_NOTHING_TO_PICK (an order has no allocation left outside open tasks, in the zone),
    PICK_NO_PACKING_LOCATION, LAYOUT_NOT_LOADED, UNKNOWN_LOCATION (a bin not in the layout)."""
    sid = site_id(w, site)
    _check_args(w, sid, strategy, order_ids, wave_id, zone)
    layout = site_layout(w, site)
    drop = drop_location(w, sid)
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for position, order_id in enumerate(order_ids, start=1):
        found = fetch_rows(
            w,
            "SELECT id, number, status FROM fulfillment_orders WHERE id = ? AND site_id = ?",
            [order_id, sid],
        )
        if not found:
            raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"order_id": order_id})
        order = found[0]
        if order["status"] not in PICKABLE_ORDER_STATUSES:
            raise AislewayError(
                ErrorCode.PICK_ORDER_NOT_READY,
                details={"number": order["number"], "status": order["status"]},
            )
        todo = unpicked_allocations(w, order["id"], zone=zone)
        if not todo:
            details: dict[str, Any] = {"number": order["number"]}
            if zone is not None:
                details["zone"] = zone
            raise AislewayError(ErrorCode.PICK_NOTHING_TO_PICK, details=details)
        orders.append(order | {"position": position})
        lines.extend(k | {"position": position} for k in todo)
    ordered, length, method = _route_lines(layout, lines)
    now = iso()
    cur = w.execute(
        "INSERT INTO pick_tasks (site_id, wave_id, strategy, zone, status, state, "
        "drop_location_id, route_length_m, route_method, created_at) "
        "VALUES (?, ?, ?, ?, 'open', 'start', ?, ?, ?, ?)",
        [sid, wave_id, strategy, zone or "", drop["id"], length, method, now],
    )
    task_id = int(cur.lastrowid or 0)
    w.conn.executemany(
        "INSERT INTO pick_task_orders (task_id, order_id, position) VALUES (?, ?, ?)",
        [(task_id, o["id"], o["position"]) for o in orders],
    )
    w.conn.executemany(
        "INSERT INTO pick_lines (task_id, seq, order_line_id, location_id, item_id, lot, lpn, "
        "qty) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                task_id,
                seq,
                ln["order_line_id"],
                ln["location_id"],
                ln["item_id"],
                ln["lot"],
                ln["lpn"],
                ln["qty"],
            )
            for seq, ln in enumerate(ordered, start=1)
        ],
    )
    for o in orders:
        if o["status"] != "picking":
            w.execute(
                "UPDATE fulfillment_orders SET status = 'picking', updated_at = ? WHERE id = ?",
                [now, o["id"]],
            )
            emit(
                w,
                FO_CHANGED,
                {"site": site, "number": o["number"], "status": "picking", "outcome": "picking"},
            )
    return task_id


def resequence_open_lines(w: SUDatabase, site: str, task_id: int) -> None:
    """Route the task's open lines again (after a short pick added lines from other bins):
    closed lines keep their place, open lines follow in route order; the stored route length
    becomes the walk over every line's bin in the new order."""
    layout = site_layout(w, site)
    rows = fetch_rows(
        w,
        "SELECT pl.id, pl.seq, pl.status, l.code AS location, pto.position, fl.line_no, "
        "pl.id AS tie FROM pick_lines pl JOIN locations l ON l.id = pl.location_id "
        "JOIN fo_lines fl ON fl.id = pl.order_line_id "
        "JOIN pick_task_orders pto ON pto.task_id = pl.task_id AND pto.order_id = fl.order_id "
        "WHERE pl.task_id = ? ORDER BY pl.seq, pl.id",
        [task_id],
    )
    closed = [r for r in rows if r["status"] != "open"]
    still = [r for r in rows if r["status"] == "open"]
    ordered = _route_lines(layout, still)[0] if still else []
    seq = max((r["seq"] for r in closed), default=0)
    for r in ordered:
        seq += 1
        w.execute("UPDATE pick_lines SET seq = ? WHERE id = ?", [seq, r["id"]])
    walk = [r["location"] for r in closed if r["status"] != "cancelled"]
    walk += [r["location"] for r in ordered]
    length = route_length(layout, walk) if walk else 0.0
    w.execute("UPDATE pick_tasks SET route_length_m = ? WHERE id = ?", [length, task_id])
