"""The picking scenario's reads: tasks, their orders and lines, and the views built from them.

Tables from `m060_waves_picking` (pick_tasks, pick_task_orders, pick_lines, pick_events).
Every function takes a write transaction (`sqlite_utils.Database`) or the read `Database`.
"""

from __future__ import annotations

import json
from typing import Any

from edge_server.errors import AislewayError
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = [
    "Row",
    "get_task",
    "line",
    "line_view",
    "lines",
    "list_tasks",
    "one",
    "open_lines",
    "task",
    "task_orders",
    "task_view",
]

Row = dict[str, Any]

_LINE_SQL = (
    "SELECT pl.*, l.code AS bin, i.sku, i.description, fl.line_no, fl.order_id, "
    "fo.number AS order_number, pto.position, pto.tote AS position_tote "
    "FROM pick_lines pl JOIN locations l ON l.id = pl.location_id "
    "JOIN items i ON i.id = pl.item_id JOIN fo_lines fl ON fl.id = pl.order_line_id "
    "JOIN fulfillment_orders fo ON fo.id = fl.order_id "
    "JOIN pick_task_orders pto ON pto.task_id = pl.task_id AND pto.order_id = fl.order_id "
)


def one(source: Source, sql: str, params: Any = ()) -> Row | None:
    found = fetch_rows(source, sql, list(params))
    return found[0] if found else None


def task(source: Source, task_id: int) -> Row:
    """The task row; PICK_TASK_NOT_FOUND if there is none."""
    row = one(
        source,
        "SELECT t.*, l.code AS drop_location, w.number AS wave_number, w.status AS wave_status "
        "FROM pick_tasks t LEFT JOIN locations l ON l.id = t.drop_location_id "
        "LEFT JOIN waves w ON w.id = t.wave_id WHERE t.id = ?",
        [task_id],
    )
    if row is None:
        raise AislewayError(ErrorCode.PICK_TASK_NOT_FOUND, details={"task_id": task_id})
    return row


def task_orders(source: Source, task_id: int) -> list[Row]:
    return fetch_rows(
        source,
        "SELECT pto.order_id, pto.position, pto.tote, fo.number, fo.priority, fo.status "
        "FROM pick_task_orders pto JOIN fulfillment_orders fo ON fo.id = pto.order_id "
        "WHERE pto.task_id = ? ORDER BY pto.position",
        [task_id],
    )


def lines(source: Source, task_id: int) -> list[Row]:
    """The task's lines in route order."""
    return fetch_rows(source, _LINE_SQL + "WHERE pl.task_id = ? ORDER BY pl.seq, pl.id", [task_id])


def open_lines(source: Source, task_id: int) -> list[Row]:
    return [ln for ln in lines(source, task_id) if ln["status"] == "open"]


def line(source: Source, line_id: int) -> Row:
    row = one(source, _LINE_SQL + "WHERE pl.id = ?", [line_id])
    assert row is not None, line_id
    return row


def line_view(ln: Row) -> dict[str, Any]:
    return {
        "line_id": ln["id"],
        "seq": ln["seq"],
        "bin": ln["bin"],
        "sku": ln["sku"],
        "description": ln["description"],
        "lot": ln["lot"],
        "lpn": ln["lpn"],
        "qty": ln["qty"],
        "qty_picked": ln["qty_picked"],
        "qty_short": ln["qty_short"],
        "qty_remaining": ln["qty"] - ln["qty_picked"] - ln["qty_short"],
        "status": ln["status"],
        "order": ln["order_number"],
        "order_line_no": ln["line_no"],
        "position": ln["position"],
        "tote": ln["position_tote"],
    }


def task_view(source: Source, t: Row, *, with_lines: bool = False) -> dict[str, Any]:
    """What a handheld or a supervisor sees of a task: orders at their cart positions with
    their totes, progress, the route; with `with_lines`, every line in route order."""
    all_lines = lines(source, t["id"])
    view: dict[str, Any] = {
        "task_id": t["id"],
        "strategy": t["strategy"],
        "zone": t["zone"] or None,
        "wave": t.get("wave_number"),
        "status": t["status"],
        "assigned_to": t["assigned_to"],
        "drop_location": t.get("drop_location"),
        "route_length_m": round(t["route_length_m"] or 0.0, 2),
        "route_method": t["route_method"],
        "orders": [
            {"position": o["position"], "order": o["number"], "tote": o["tote"]}
            for o in task_orders(source, t["id"])
        ],
        "progress": {
            "lines": len(all_lines),
            "lines_done": sum(1 for ln in all_lines if ln["status"] != "open"),
            "units": sum(ln["qty"] for ln in all_lines if ln["status"] != "cancelled"),
            "units_picked": sum(ln["qty_picked"] for ln in all_lines),
            "units_short": sum(ln["qty_short"] for ln in all_lines),
        },
        "created_at": t["created_at"],
        "started_at": t["started_at"],
        "finished_at": t["finished_at"],
    }
    if with_lines:
        view["lines"] = [line_view(ln) for ln in all_lines]
    return view


def get_task(source: Source, task_id: int) -> dict[str, Any]:
    t = task(source, task_id)
    return task_view(source, t, with_lines=True) | {"state": t["state"]}


def list_tasks(
    source: Source,
    site: str,
    *,
    status: str | None = None,
    wave: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Tasks of the site, newest first, filtered by status and/or wave number."""
    where = ["s.code = ?"]
    params: list[Any] = [site]
    if status is not None:
        where.append("t.status = ?")
        params.append(status)
    if wave is not None:
        where.append("w.number = ?")
        params.append(wave)
    rows = fetch_rows(
        source,
        "SELECT t.*, l.code AS drop_location, w.number AS wave_number FROM pick_tasks t "
        "JOIN sites s ON s.id = t.site_id LEFT JOIN locations l ON l.id = t.drop_location_id "
        f"LEFT JOIN waves w ON w.id = t.wave_id WHERE {' AND '.join(where)} "
        "ORDER BY t.id DESC LIMIT ?",
        [*params, limit],
    )
    return [task_view(source, r) for r in rows]


def pending(t: Row) -> dict[str, Any]:
    loaded = json.loads(t["pending_json"] or "{}")
    assert isinstance(loaded, dict)
    return loaded
