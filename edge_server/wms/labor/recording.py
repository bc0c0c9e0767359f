"""Recording labor: every workflow calls `record` for each scan that did work, inside the
write transaction of that scan, and `finish` when the task is done.

A *labor task* is one worker on one piece of work (`task_type` × `task_ref`, e.g. `pick` ×
`pick-12`, `receive` × `PO-1001`). Each scan adds the time since the worker's previous scan
(on any task, so time is never counted twice when a worker interleaves tasks, e.g. a count
asked for in the middle of a pick): before an `arrive` scan (a bin, a tote or a station that
proves the worker got somewhere) that gap is **travel**; before a `handle` scan (a product, a
quantity, a confirm) it is **handling**; a gap longer than `labor_idle_gap_seconds` is
**idle** whatever came next.

The first scan of a task carries the gap since the worker's previous scan when that gap is
not idle (the walk to a putaway bin is that putaway's travel), and the task starts at that
previous scan; after an idle gap (or for the worker's first scan ever) the first scan adds
no time and the task starts at it. So for tasks that do not interleave,
`end - start = travel + handling + idle`.

Times are the handheld's scan times (`Actor.scanned_at`, from `X-Scanned-At`) so a queue
replayed after a Wi-Fi dead zone is timed when the work happened; without one, the server's
clock. A scan older than the worker's latest one (replayed out of order) adds its work but no
time. Callers without a user (API keys, the system) record nothing: labor is about people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlite_utils import Database as SUDatabase

from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso
from edge_server.wms.ledger import Actor

__all__ = ["STEPS", "TASK_TYPES", "Step", "TaskType", "finish", "finish_all", "record"]

TaskType = Literal["receive", "putaway", "replenish", "pick", "pack", "count", "return"]
Step = Literal["arrive", "handle"]
TASK_TYPES: tuple[str, ...] = get_args(TaskType)
STEPS: tuple[str, ...] = get_args(Step)

_COLUMN = {"idle": "idle_seconds", "travel": "travel_seconds", "handling": "handling_seconds"}


def _when(actor: Actor) -> datetime:
    return parse_iso(actor.scanned_at) if actor.scanned_at else parse_iso(iso())


def _site_id(w: SUDatabase, code: str) -> int:
    row = w.execute("SELECT id FROM sites WHERE code = ?", [code]).fetchone()
    if row is None:
        raise LookupError(f"site {code!r} is not loaded")
    return int(row[0])


def _last_scan(w: SUDatabase, user_id: int) -> datetime | None:
    """The worker's latest scan on any labor task (stored ISO texts are all UTC with the same
    shape, so MAX on the text is the latest time)."""
    row = w.execute(
        "SELECT MAX(last_scan_at) FROM labor_tasks WHERE user_id = ?", [user_id]
    ).fetchone()
    return parse_iso(row[0]) if row and row[0] else None


def record(
    w: SUDatabase,
    settings: Settings,
    *,
    task_type: TaskType,
    task_ref: str,
    actor: Actor,
    step: Step,
    units: int = 0,
    lines: int = 0,
) -> int | None:
    """Add one scan to the worker's open labor task (opening it on the first scan); returns
    the labor task's id, or None for a caller that is not a person."""
    if task_type not in TASK_TYPES or step not in STEPS:
        raise ValueError(f"unknown labor task type or step: {task_type!r}, {step!r}")
    if units < 0 or lines < 0:
        raise ValueError("units and lines cannot be negative")
    if actor.user_id is None:
        return None
    when = _when(actor)
    previous = _last_scan(w, actor.user_id)
    # A scan replayed out of order (older than the last one) adds its work but no time.
    gap = max(0.0, (when - previous).total_seconds()) if previous is not None else 0.0
    kind = "travel" if step == "arrive" else "handling"
    if gap > settings.labor_idle_gap_seconds:
        kind = "idle"
    row = w.execute(
        "SELECT id FROM labor_tasks WHERE task_type = ? AND task_ref = ? "
        "AND user_id = ? AND ended_at IS NULL",
        [task_type, task_ref, actor.user_id],
    ).fetchone()
    if row is None:
        if previous is None or kind == "idle":
            kind, gap, started = "start", 0.0, when
        else:
            started = min(previous, when)  # the work began where the last scan left off
        travel = gap if kind == "travel" else 0.0
        handling = gap if kind == "handling" else 0.0
        cur = w.execute(
            "INSERT INTO labor_tasks (site_id, task_type, task_ref, user_id, device_id, "
            "started_at, last_scan_at, scans, units, lines, travel_seconds, handling_seconds) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                _site_id(w, settings.site),
                task_type,
                task_ref,
                actor.user_id,
                actor.device_id,
                iso(started),
                iso(when),
                1,
                units,
                lines,
                travel,
                handling,
            ],
        )
        task_id = int(cur.lastrowid or 0)
    else:
        task_id = int(row[0])
        w.execute(
            f"UPDATE labor_tasks SET scans = scans + 1, units = units + ?, lines = lines + ?, "
            f"{_COLUMN[kind]} = {_COLUMN[kind]} + ?, last_scan_at = MAX(last_scan_at, ?), "
            f"started_at = MIN(started_at, ?), device_id = COALESCE(?, device_id) WHERE id = ?",
            [units, lines, gap, iso(when), iso(when), actor.device_id, task_id],
        )
    w.execute(
        "INSERT INTO labor_scans (labor_task_id, ts, step, units, lines, gap_seconds, gap_kind) "
        "VALUES (?,?,?,?,?,?,?)",
        [task_id, iso(when), step, units, lines, gap, kind],
    )
    return task_id


def finish(w: SUDatabase, *, task_type: TaskType, task_ref: str, actor: Actor) -> None:
    """The worker finished the task (or handed it back): close the open labor task. Its end
    is the last scan's time, so a task closed later by a supervisor is not stretched."""
    if actor.user_id is None:
        return
    w.execute(
        "UPDATE labor_tasks SET ended_at = MAX(last_scan_at, started_at) WHERE task_type = ? "
        "AND task_ref = ? AND user_id = ? AND ended_at IS NULL",
        [task_type, task_ref, actor.user_id],
    )


def finish_all(w: SUDatabase, *, task_type: TaskType, task_ref: str) -> None:
    """The piece of work itself is closed (a PO, an RMA): close every worker's open labor
    task on it, each at its own last scan."""
    w.execute(
        "UPDATE labor_tasks SET ended_at = MAX(last_scan_at, started_at) WHERE task_type = ? "
        "AND task_ref = ? AND ended_at IS NULL",
        [task_type, task_ref],
    )
