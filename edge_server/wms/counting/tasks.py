"""Count tasks: making them (by hand, from the schedule, from other workflows' requests),
listing, claiming and assigning them.

A task never carries an expected quantity: counts are blind. The bins a task visits are fixed
when it is made (`count_task_bins`, in walk order), so an item count does not grow or shrink
while stock moves.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode

__all__ = [
    "KINDS",
    "REASONS",
    "assign",
    "claim",
    "create_task",
    "get_task",
    "list_tasks",
    "load_task",
    "task_for_request",
    "task_view",
    "walk_order",
]

KINDS = ("bin", "item", "lpn")
REASONS = (
    "schedule",
    "nth_putaway",
    "bin_full",
    "short_pick",
    "low_after_pick",
    "recount",
    "manual",
)
OPEN_STATUSES = ("open", "in_progress")

#: Serpentine walk order: blocks, aisles up one and down the next, then levels; bins outside
#: the racks (docks, areas) last by code.
_WALK = (
    "(l.aisle IS NULL), COALESCE(l.block, ''), COALESCE(l.aisle, 0), "
    "CASE WHEN COALESCE(l.aisle, 0) % 2 = 1 THEN COALESCE(l.bay, 0) "
    "ELSE -COALESCE(l.bay, 0) END, COALESCE(l.level, 0), l.code"
)


def walk_order(w: Source, location_ids: list[int]) -> list[int]:
    """The bins in the order a counter walks them."""
    if not location_ids:
        return []
    marks = ",".join("?" * len(location_ids))
    rows = fetch_rows(
        w, f"SELECT l.id FROM locations l WHERE l.id IN ({marks}) ORDER BY {_WALK}", location_ids
    )
    return [int(r["id"]) for r in rows]


def load_task(source: Source, site: str, task_id: int) -> dict[str, Any]:
    rows = fetch_rows(
        source,
        "SELECT t.* FROM count_tasks t JOIN sites s ON s.id = t.site_id "
        "WHERE t.id = ? AND s.code = ?",
        [task_id, site],
    )
    if not rows:
        raise AislewayError(ErrorCode.COUNT_TASK_NOT_FOUND, details={"task_id": task_id})
    return rows[0]


def task_view(source: Source, t: dict[str, Any]) -> dict[str, Any]:
    """The task as the API shows it (no quantities: counts are blind)."""
    names = fetch_rows(
        source,
        "SELECT (SELECT code FROM locations WHERE id = ?) AS location, "
        "(SELECT sku FROM items WHERE id = ?) AS sku, "
        "(SELECT COUNT(*) FROM count_lines WHERE task_id = ? AND status = 'counted') AS n",
        [t["location_id"], t["item_id"], t["id"]],
    )[0]
    bins = fetch_rows(
        source,
        "SELECT l.code FROM count_task_bins b JOIN locations l ON l.id = b.location_id "
        "WHERE b.task_id = ? ORDER BY b.seq",
        [t["id"]],
    )
    return {
        "id": t["id"],
        "kind": t["kind"],
        "status": t["status"],
        "reason": t["reason"],
        "location": names["location"],
        "sku": names["sku"],
        "lpn": t["lpn"] or None,
        "bins": [b["code"] for b in bins],
        "assigned_to": t["assigned_to"],
        "excluded_user": t["excluded_user"],
        "recount_of": t["recount_of"],
        "created_at": t["created_at"],
        "started_at": t["started_at"],
        "finished_at": t["finished_at"],
        "outcome": t["outcome"],
        "cancel_reason": t["cancel_reason"],
        "lines_counted": int(names["n"]),
    }


def get_task(source: Source, site: str, task_id: int) -> dict[str, Any]:
    return task_view(source, load_task(source, site, task_id))


def list_tasks(
    source: Source,
    site: str,
    *,
    status: str | None = "open",
    user_id: int | None = None,
    mine: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Tasks by status (None: all). `mine`: the ones `user_id` may do, i.e. assigned to them,
    or unassigned and not a recount of their own count."""
    sql = "SELECT t.* FROM count_tasks t JOIN sites s ON s.id = t.site_id WHERE s.code = ?"
    params: list[Any] = [site]
    if status is not None:
        sql += " AND t.status = ?"
        params.append(status)
    if mine:
        sql += (
            " AND (t.assigned_to = ? OR (t.assigned_to IS NULL "
            "AND (t.excluded_user IS NULL OR t.excluded_user != ?)))"
        )
        params += [user_id, user_id]
    sql += " ORDER BY t.id LIMIT ?"
    params.append(limit)
    return [task_view(source, t) for t in fetch_rows(source, sql, params)]


def _location(w: SUDatabase, site_pk: int, code: str) -> int:
    row = w.execute(
        "SELECT id FROM locations WHERE site_id = ? AND code = ? AND active = 1", [site_pk, code]
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_LOCATION, details={"location": code})
    return int(row[0])


def _item(w: SUDatabase, sku: str) -> int:
    row = w.execute("SELECT id FROM items WHERE sku = ?", [sku]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    return int(row[0])


def _bins_holding(w: SUDatabase, site_pk: int, column: str, value: Any) -> list[int]:
    rows = w.execute(
        f"SELECT DISTINCT st.location_id FROM stock st JOIN locations l ON l.id = st.location_id "
        f"WHERE l.site_id = ? AND st.{column} = ? AND st.qty > 0",
        [site_pk, value],
    ).fetchall()
    return [int(r[0]) for r in rows]


def create_task(
    w: SUDatabase,
    site: str,
    *,
    kind: str,
    reason: str,
    location: str | None = None,
    sku: str | None = None,
    lpn: str | None = None,
    location_id: int | None = None,
    item_id: int | None = None,
    bins: list[int] | None = None,
    assigned_to: int | None = None,
    excluded_user: int | None = None,
    recount_of: int | None = None,
    request_id: int | None = None,
    created_by: int | None = None,
) -> int:
    """Make a count task; returns its id. A bin task needs a bin, an item task a SKU (it
    visits every bin holding the item), an LPN task an LPN. `bins` overrides the bins to
    visit (recounts)."""
    if kind not in KINDS or reason not in REASONS:
        raise AislewayError(ErrorCode.COUNT_SCOPE_INVALID, details={"kind": kind})
    site_pk = site_id(w, site)
    if location is not None:
        location_id = _location(w, site_pk, location)
    if sku is not None:
        item_id = _item(w, sku)
    lpn = (lpn or "").strip() or None
    if kind == "bin":
        if location_id is None:
            raise AislewayError(ErrorCode.COUNT_SCOPE_INVALID, details={"missing": "location"})
        visit = bins or [location_id]
    elif kind == "item":
        if item_id is None:
            raise AislewayError(ErrorCode.COUNT_SCOPE_INVALID, details={"missing": "sku"})
        visit = bins or _bins_holding(w, site_pk, "item_id", item_id)
        location_id = None
    else:
        if lpn is None:
            raise AislewayError(ErrorCode.COUNT_SCOPE_INVALID, details={"missing": "lpn"})
        visit = bins or _bins_holding(w, site_pk, "lpn", lpn)
        location_id = None
    if not visit:
        raise AislewayError(
            ErrorCode.COUNT_NOTHING_TO_COUNT, details={"kind": kind, "sku": sku, "lpn": lpn}
        )
    cur = w.execute(
        "INSERT INTO count_tasks (site_id, kind, reason, location_id, item_id, lpn, assigned_to, "
        "excluded_user, recount_of, request_id, created_by, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            site_pk,
            kind,
            reason,
            location_id,
            item_id,
            lpn,
            assigned_to,
            excluded_user,
            recount_of,
            request_id,
            created_by,
            iso(),
        ],
    )
    task_id = int(cur.lastrowid or 0)
    for seq, loc in enumerate(walk_order(w, visit), 1):
        w.execute(
            "INSERT INTO count_task_bins (task_id, location_id, seq) VALUES (?,?,?)",
            [task_id, loc, seq],
        )
    return task_id


def open_bin_task(w: SUDatabase, location_id: int) -> int | None:
    """An open (not yet started) first count of this bin, if there is one."""
    row = w.execute(
        "SELECT id FROM count_tasks WHERE kind = 'bin' AND location_id = ? AND status = 'open' "
        "AND recount_of IS NULL ORDER BY id LIMIT 1",
        [location_id],
    ).fetchone()
    return int(row[0]) if row else None


def bin_task(
    w: SUDatabase,
    site: str,
    location_id: int,
    *,
    reason: str,
    item_id: int | None = None,
    assigned_to: int | None = None,
    request_id: int | None = None,
) -> int:
    """A bin count for an opportunity: reuses an open count of the bin (giving it to
    `assigned_to` when nobody holds it), else makes one."""
    existing = open_bin_task(w, location_id)
    if existing is not None:
        if assigned_to is not None:
            w.execute(
                "UPDATE count_tasks SET assigned_to = ? WHERE id = ? AND assigned_to IS NULL",
                [assigned_to, existing],
            )
        return existing
    return create_task(
        w,
        site,
        kind="bin",
        reason=reason,
        location_id=location_id,
        item_id=item_id,
        assigned_to=assigned_to,
        request_id=request_id,
    )


def task_for_request(w: SUDatabase, request_id: int, *, assigned_to: int | None = None) -> int:
    """The count task of a `count_requests` row (putaway, picking), made on first ask; a
    task already made is returned (and given to `assigned_to` when nobody holds it). The
    request stays `open` until a count of its bin is submitted, then it is `taken`."""
    req = w.execute(
        "SELECT r.location_id, r.item_id, r.reason, s.code "
        "FROM count_requests r JOIN sites s ON s.id = r.site_id WHERE r.id = ?",
        [request_id],
    ).fetchone()
    if req is None:
        raise AislewayError(ErrorCode.COUNT_TASK_NOT_FOUND, details={"request_id": request_id})
    location_id, item_id, reason, site = req
    row = w.execute(
        "SELECT id FROM count_tasks WHERE request_id = ? AND status IN ('open', 'in_progress') "
        "ORDER BY id DESC LIMIT 1",
        [request_id],
    ).fetchone()
    if row is not None:
        if assigned_to is not None:
            w.execute(
                "UPDATE count_tasks SET assigned_to = ? WHERE id = ? AND assigned_to IS NULL "
                "AND status = 'open'",
                [assigned_to, row[0]],
            )
        return int(row[0])
    task_id = bin_task(
        w,
        site,
        location_id,
        reason=reason if reason in REASONS else "manual",
        item_id=item_id,
        assigned_to=assigned_to,
        request_id=request_id,
    )
    w.execute(
        "UPDATE count_tasks SET request_id = COALESCE(request_id, ?) WHERE id = ?",
        [request_id, task_id],
    )
    return task_id


def close_requests(w: SUDatabase, task_id: int) -> None:
    """A count of these bins was submitted: their open requests are answered."""
    w.execute(
        "UPDATE count_requests SET status = 'taken' WHERE status = 'open' AND location_id IN "
        "(SELECT location_id FROM count_task_bins WHERE task_id = ?)",
        [task_id],
    )


def claim(w: SUDatabase, site: str, task_id: int, user_id: int | None) -> dict[str, Any]:
    """The worker takes the task: in progress, assigned to them. Claiming one's own task in
    progress again is fine (a handheld resuming)."""
    t = load_task(w, site, task_id)
    if t["status"] not in OPEN_STATUSES:
        raise AislewayError(
            ErrorCode.COUNT_TASK_CLOSED, details={"task_id": task_id, "status": t["status"]}
        )
    if user_id is not None and t["excluded_user"] == user_id:
        raise AislewayError(ErrorCode.COUNT_RECOUNT_SAME_USER, details={"task_id": task_id})
    if t["assigned_to"] is not None and t["assigned_to"] != user_id:
        raise AislewayError(
            ErrorCode.COUNT_TASK_NOT_YOURS,
            details={"task_id": task_id, "assigned_to": t["assigned_to"]},
        )
    w.execute(
        "UPDATE count_tasks SET status = 'in_progress', assigned_to = ?, "
        "started_at = COALESCE(started_at, ?) WHERE id = ?",
        [user_id, iso(), task_id],
    )
    return get_task(w, site, task_id)


def assign(w: SUDatabase, site: str, task_id: int, user_id: int) -> dict[str, Any]:
    """A supervisor gives the task to a worker (not the first counter of a recount). A task in
    progress keeps its lines; the new worker goes on from there."""
    t = load_task(w, site, task_id)
    if t["status"] not in OPEN_STATUSES:
        raise AislewayError(
            ErrorCode.COUNT_TASK_CLOSED, details={"task_id": task_id, "status": t["status"]}
        )
    if t["excluded_user"] == user_id:
        raise AislewayError(ErrorCode.COUNT_RECOUNT_SAME_USER, details={"task_id": task_id})
    w.execute("UPDATE count_tasks SET assigned_to = ? WHERE id = ?", [user_id, task_id])
    return get_task(w, site, task_id)


def cancel(w: SUDatabase, site: str, task_id: int, *, reason: str) -> dict[str, Any]:
    """A supervisor calls a count off (made by mistake, the bin is being emptied anyway).
    Nothing is posted; lines counted so far stay on record with the task. Requests the task
    answered are cancelled too, so the same count is not asked for again at once."""
    t = load_task(w, site, task_id)
    if t["status"] not in OPEN_STATUSES:
        raise AislewayError(
            ErrorCode.COUNT_TASK_CLOSED, details={"task_id": task_id, "status": t["status"]}
        )
    w.execute(
        "UPDATE count_tasks SET status = 'cancelled', outcome = 'cancelled', finished_at = ?, "
        "cancel_reason = ? WHERE id = ?",
        [iso(), reason, task_id],
    )
    w.execute(
        "UPDATE count_requests SET status = 'cancelled' WHERE status = 'open' AND location_id IN "
        "(SELECT location_id FROM count_task_bins WHERE task_id = ?) AND NOT EXISTS ("
        "SELECT 1 FROM count_tasks o JOIN count_task_bins b ON b.task_id = o.id "
        "WHERE o.id != ? AND o.status IN ('open', 'in_progress') "
        "AND b.location_id = count_requests.location_id)",
        [task_id, task_id],
    )
    return get_task(w, site, task_id)


def held_task(w: SUDatabase, site: str, task_id: int, user_id: int | None) -> dict[str, Any]:
    """The task, if the caller holds it in progress; the clear refusal otherwise."""
    t = load_task(w, site, task_id)
    if t["status"] not in OPEN_STATUSES:
        raise AislewayError(
            ErrorCode.COUNT_TASK_CLOSED, details={"task_id": task_id, "status": t["status"]}
        )
    if user_id is not None and t["excluded_user"] == user_id:
        raise AislewayError(ErrorCode.COUNT_RECOUNT_SAME_USER, details={"task_id": task_id})
    if t["status"] != "in_progress" or t["assigned_to"] != user_id:
        raise AislewayError(
            ErrorCode.COUNT_TASK_NOT_YOURS,
            details={"task_id": task_id, "status": t["status"]},
        )
    return t


def summary_counts(source: Database | SUDatabase, site: str) -> dict[str, int]:
    rows = fetch_rows(
        source,
        "SELECT t.status, t.recount_of IS NOT NULL AS recount, COUNT(*) AS n "
        "FROM count_tasks t JOIN sites s ON s.id = t.site_id "
        "WHERE s.code = ? AND t.status IN ('open', 'in_progress') GROUP BY 1, 2",
        [site],
    )
    out = {"open_tasks": 0, "in_progress": 0, "recounts_open": 0}
    for r in rows:
        if r["status"] == "open":
            out["open_tasks"] += r["n"]
        else:
            out["in_progress"] += r["n"]
        if r["recount"]:
            out["recounts_open"] += r["n"]
    return out


def low_after_pick(
    w: SUDatabase, site: str, threshold: int, location_id: int, item_id: int, user_id: int | None
) -> dict[str, Any] | None:
    """After a pick: when the bin holds `threshold` units of the item or fewer, ask the picker
    (who is standing there) to count what remains. Returns the picking answer's
    `confirm_remaining` (`count_task_id`, `location`, `sku`) or None."""
    left = w.execute(
        "SELECT COALESCE(SUM(qty), 0) FROM stock WHERE location_id = ? AND item_id = ?",
        [location_id, item_id],
    ).fetchone()[0]
    if int(left) > threshold:
        return None
    task_id = bin_task(
        w, site, location_id, reason="low_after_pick", item_id=item_id, assigned_to=user_id
    )
    t = load_task(w, site, task_id)
    if t["assigned_to"] is not None and t["assigned_to"] != user_id:
        return None  # someone else is already on this bin's count
    names = w.execute(
        "SELECT (SELECT code FROM locations WHERE id = ?), (SELECT sku FROM items WHERE id = ?)",
        [location_id, item_id],
    ).fetchone()
    return {"count_task_id": task_id, "location": names[0], "sku": names[1]}
