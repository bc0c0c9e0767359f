"""Handing a task to another worker (supervisors: `tasks.assign`), and the list of open and
in-progress tasks with who holds them (docs/reports.md#reassigning-tasks).

Three kinds of task:

- `pick` (`pick_tasks`): a task in progress moves to the new worker with its cart, totes and
  finished lines; the new worker resumes it by asking for their next task (the picking
  scenario's claim finds their task in progress). A scan half done at a bin (product or
  quantity scanned, units not yet in the tote) goes back to the bin scan: the units in the old
  worker's hands are not the new worker's. An open task is claimed for the new worker the way
  the scenario claims it (in progress, first tote to bind), so nobody else takes it.
- `putaway` (`stock_tasks` of kind putaway): `assigned_to` names the worker.
- `count` (`count_tasks`): `edge_server.wms.counting.tasks.assign`; a count in progress keeps
  its counted lines.

The old worker's labor task is closed (`labor.finish`), an audit row goes into
`task_assignments` and the outbox gets `task.reassigned`. Every refusal changes nothing.
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

from sqlite_utils import Database as SUDatabase

from edge_server.access.policy import allowed
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import labor
from edge_server.wms.counting import tasks as count_tasks
from edge_server.wms.labor import TaskType
from edge_server.wms.ledger import Actor
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode
from protocols.picking import PickingState

__all__ = ["KINDS", "TASK_REASSIGNED", "WORK_PERMISSION", "Kind", "assign", "open_tasks"]

TASK_REASSIGNED = "task.reassigned"
Kind = Literal["pick", "putaway", "count"]
KINDS: tuple[str, ...] = get_args(Kind)
#: The permission a worker's role needs to do a kind of task (edge_server/access/policy.py).
WORK_PERMISSION: dict[str, str] = {
    "pick": "picking.work",
    "putaway": "putaway.work",
    "count": "counting.work",
}
_LABOR: dict[str, TaskType] = {"pick": "pick", "putaway": "putaway", "count": "count"}
_MID_LINE = (PickingState.SCAN_ITEM, PickingState.SET_QUANTITY, PickingState.SCAN_TOTE)


def _worker(source: Source, user_id: int | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    rows = fetch_rows(source, "SELECT id, badge, name, role FROM users WHERE id = ?", [user_id])
    return rows[0] if rows else {"id": user_id, "badge": None, "name": "", "role": None}


def _target(w: SUDatabase, kind: str, badge: str) -> dict[str, Any]:
    rows = fetch_rows(w, "SELECT id, badge, name, role, active FROM users WHERE badge = ?", [badge])
    if not rows:
        raise AislewayError(ErrorCode.ASSIGN_BADGE_UNKNOWN, details={"badge": badge})
    user = rows[0]
    if not user["active"]:
        raise AislewayError(ErrorCode.ASSIGN_WORKER_INACTIVE, details={"badge": badge})
    if not allowed(WORK_PERMISSION[kind], user["role"]):
        raise AislewayError(
            ErrorCode.ASSIGN_ROLE_NOT_ALLOWED,
            details={"badge": badge, "role": user["role"], "kind": kind},
        )
    return user


def _task_row(w: SUDatabase, site: str, kind: str, task_id: int) -> dict[str, Any]:
    """The task's id, status and holder (plus what its kind needs); refusals for an unknown
    or finished task."""
    if kind == "pick":
        sql = (
            "SELECT t.id, t.status, t.assigned_to, t.state, t.wave_id, w.status AS wave_status "
            "FROM pick_tasks t JOIN sites s ON s.id = t.site_id "
            "LEFT JOIN waves w ON w.id = t.wave_id WHERE s.code = ? AND t.id = ?"
        )
    elif kind == "putaway":
        sql = (
            "SELECT t.id, t.status, t.assigned_to FROM stock_tasks t JOIN sites s "
            "ON s.id = t.site_id WHERE s.code = ? AND t.id = ? AND t.kind = 'putaway'"
        )
    else:
        sql = (
            "SELECT t.id, t.status, t.assigned_to FROM count_tasks t JOIN sites s "
            "ON s.id = t.site_id WHERE s.code = ? AND t.id = ?"
        )
    rows = fetch_rows(w, sql, [site, task_id])
    if not rows:
        raise AislewayError(
            ErrorCode.ASSIGN_TASK_NOT_FOUND, details={"kind": kind, "task_id": task_id}
        )
    row = rows[0]
    if row["status"] not in ("open", "in_progress"):
        raise AislewayError(
            ErrorCode.ASSIGN_TASK_CLOSED,
            details={"kind": kind, "task_id": task_id, "status": row["status"]},
        )
    return row


def _hand_over_pick(w: SUDatabase, task: dict[str, Any], user_id: int) -> None:
    if task["status"] == "open":
        if task["wave_id"] is not None and task["wave_status"] != "released":
            raise AislewayError(
                ErrorCode.ASSIGN_TASK_NOT_RELEASED,
                details={"kind": "pick", "task_id": task["id"], "wave_status": task["wave_status"]},
            )
        # What the picking scenario's claim does for an open task, on the new worker's behalf.
        first = fetch_rows(
            w,
            "SELECT MIN(position) AS p FROM pick_task_orders WHERE task_id = ? AND tote IS NULL",
            [task["id"]],
        )[0]["p"]
        w.execute(
            "UPDATE pick_tasks SET status = 'in_progress', assigned_to = ?, device_id = NULL, "
            "started_at = COALESCE(started_at, ?), state = ?, pending_json = ? WHERE id = ?",
            [
                user_id,
                iso(),
                PickingState.BIND_TOTE.value,
                json.dumps({"position": first}),
                task["id"],
            ],
        )
        return
    if task["state"] in {s.value for s in _MID_LINE}:
        w.execute(
            "UPDATE pick_tasks SET assigned_to = ?, device_id = NULL, state = ?, "
            "pending_json = '{}' WHERE id = ?",
            [user_id, PickingState.SCAN_BIN.value, task["id"]],
        )
    else:
        w.execute(
            "UPDATE pick_tasks SET assigned_to = ?, device_id = NULL WHERE id = ?",
            [user_id, task["id"]],
        )


def assign(
    w: SUDatabase,
    site: str,
    kind: str,
    task_id: int,
    *,
    badge: str,
    reason: str = "",
    assigned_by: str,
) -> dict[str, Any]:
    """Give task `task_id` of `kind` to the worker with `badge`; returns the task as
    `open_tasks` lists it. Refusals: ASSIGN_KIND_UNKNOWN, ASSIGN_TASK_NOT_FOUND,
    ASSIGN_TASK_CLOSED, ASSIGN_TASK_NOT_RELEASED, ASSIGN_BADGE_UNKNOWN, ASSIGN_WORKER_INACTIVE,
    ASSIGN_ROLE_NOT_ALLOWED, ASSIGN_SAME_WORKER (and COUNT_RECOUNT_SAME_USER for a recount's
    first counter)."""
    if kind not in KINDS:
        raise AislewayError(ErrorCode.ASSIGN_KIND_UNKNOWN, details={"kind": kind})
    task = _task_row(w, site, kind, task_id)
    user = _target(w, kind, badge)
    old = task["assigned_to"]
    if old == user["id"]:
        raise AislewayError(
            ErrorCode.ASSIGN_SAME_WORKER, details={"kind": kind, "task_id": task_id, "badge": badge}
        )
    if kind == "pick":
        _hand_over_pick(w, task, user["id"])
    elif kind == "putaway":
        w.execute("UPDATE stock_tasks SET assigned_to = ? WHERE id = ?", [user["id"], task_id])
    else:
        count_tasks.assign(w, site, task_id, user["id"])
    if old is not None:
        # labor task_ref convention: `<kind>-<task id>` (edge_server/wms/labor/recording.py)
        labor.finish(
            w, task_type=_LABOR[kind], task_ref=f"{kind}-{task_id}", actor=Actor(user_id=old)
        )
    now = iso()
    w.execute(
        "INSERT INTO task_assignments (site_id, kind, task_id, from_user, to_user, task_status, "
        "reason, assigned_by, assigned_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            site_id(w, site),
            kind,
            task_id,
            old,
            user["id"],
            task["status"],
            reason,
            assigned_by,
            now,
        ],
    )
    before = _worker(w, old)
    emit(
        w,
        TASK_REASSIGNED,
        {
            "site": site,
            "kind": kind,
            "task_id": task_id,
            "status": task["status"],
            "from": {"id": before["id"], "badge": before["badge"]} if before else None,
            "to": {"id": user["id"], "badge": user["badge"]},
            "reason": reason,
            "assigned_by": assigned_by,
            "assigned_at": now,
        },
    )
    found = [t for t in open_tasks(w, site) if t["kind"] == kind and t["id"] == task_id]
    return found[0]


# -- the list -----------------------------------------------------------------------------------
def _holder(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["assigned_to"] is None:
        return None
    return {
        "id": row["assigned_to"],
        "badge": row["badge"],
        "name": row["name"] or "",
        "role": row["role"],
    }


def _picks(source: Source, site: str, statuses: list[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(statuses))
    rows = fetch_rows(
        source,
        "SELECT t.id, t.status, t.state, t.strategy, t.zone, t.assigned_to, t.created_at, "
        "t.started_at, w.number AS wave, u.badge, u.name, u.role, "
        "(SELECT COUNT(*) FROM pick_task_orders o WHERE o.task_id = t.id) AS orders, "
        "(SELECT COUNT(*) FROM pick_lines l WHERE l.task_id = t.id "
        " AND l.status != 'cancelled') AS lines, "
        "(SELECT COUNT(*) FROM pick_lines l WHERE l.task_id = t.id "
        " AND l.status IN ('picked', 'short')) AS lines_done "
        "FROM pick_tasks t JOIN sites s ON s.id = t.site_id "
        "LEFT JOIN waves w ON w.id = t.wave_id LEFT JOIN users u ON u.id = t.assigned_to "
        f"WHERE s.code = ? AND t.status IN ({marks}) ORDER BY t.id",
        [site, *statuses],
    )
    return [
        {
            "kind": "pick",
            "id": r["id"],
            "status": r["status"],
            "assigned_to": _holder(r),
            "created_at": r["created_at"],
            "started_at": r["started_at"],
            "summary": {
                "wave": r["wave"],
                "strategy": r["strategy"],
                "zone": r["zone"] or None,
                "state": r["state"] or None,
                "orders": r["orders"],
                "lines": r["lines"],
                "lines_done": r["lines_done"],
            },
        }
        for r in rows
    ]


def _putaways(source: Source, site: str, statuses: list[str]) -> list[dict[str, Any]]:
    if "open" not in statuses:  # putaway tasks are open until confirmed, never in progress
        return []
    rows = fetch_rows(
        source,
        "SELECT t.id, t.status, t.assigned_to, t.created_at, t.qty, t.lot, i.sku, "
        "lf.code AS from_code, lt.code AS to_code, u.badge, u.name, u.role "
        "FROM stock_tasks t JOIN sites s ON s.id = t.site_id JOIN items i ON i.id = t.item_id "
        "JOIN locations lf ON lf.id = t.from_location_id "
        "LEFT JOIN locations lt ON lt.id = t.to_location_id "
        "LEFT JOIN users u ON u.id = t.assigned_to "
        "WHERE s.code = ? AND t.kind = 'putaway' AND t.status = 'open' ORDER BY t.id",
        [site],
    )
    return [
        {
            "kind": "putaway",
            "id": r["id"],
            "status": r["status"],
            "assigned_to": _holder(r),
            "created_at": r["created_at"],
            "started_at": None,
            "summary": {
                "sku": r["sku"],
                "lot": r["lot"],
                "qty": r["qty"],
                "from_location": r["from_code"],
                "to_location": r["to_code"],
            },
        }
        for r in rows
    ]


def _counts(source: Source, site: str, statuses: list[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(statuses))
    rows = fetch_rows(
        source,
        "SELECT t.id, t.status, t.kind, t.reason, t.assigned_to, t.created_at, t.started_at, "
        "t.lpn, l.code AS location, i.sku, u.badge, u.name, u.role, "
        "(SELECT COUNT(*) FROM count_task_bins b WHERE b.task_id = t.id) AS bins "
        "FROM count_tasks t JOIN sites s ON s.id = t.site_id "
        "LEFT JOIN locations l ON l.id = t.location_id LEFT JOIN items i ON i.id = t.item_id "
        "LEFT JOIN users u ON u.id = t.assigned_to "
        f"WHERE s.code = ? AND t.status IN ({marks}) ORDER BY t.id",
        [site, *statuses],
    )
    return [
        {
            "kind": "count",
            "id": r["id"],
            "status": r["status"],
            "assigned_to": _holder(r),
            "created_at": r["created_at"],
            "started_at": r["started_at"],
            "summary": {
                "count_kind": r["kind"],
                "reason": r["reason"],
                "location": r["location"],
                "sku": r["sku"],
                "lpn": r["lpn"] or None,
                "bins": r["bins"],
            },
        }
        for r in rows
    ]


def open_tasks(source: Source, site: str, *, status: str | None = None) -> list[dict[str, Any]]:
    """Pick, putaway and count tasks that are open and/or in progress (`status`), each with
    who holds it; by kind, oldest first."""
    statuses = [status] if status else ["open", "in_progress"]
    return [
        *_picks(source, site, statuses),
        *_putaways(source, site, statuses),
        *_counts(source, site, statuses),
    ]
