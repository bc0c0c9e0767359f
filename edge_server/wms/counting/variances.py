"""Submitting a count: per stock key, variance = counted − book at the moment it was counted;
within tolerance it is posted at once (a `count` movement against the CURRENT stock), beyond
it a first count gets a recount by another worker, and an adjustment worth more than the
approval value waits for a supervisor.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.settings import Settings
from edge_server.timeutil import iso
from edge_server.wms import inventory, labor, ledger
from edge_server.wms.counting.tasks import close_requests, create_task, get_task, held_task
from edge_server.wms.ledger import Actor, StockKey
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = [
    "COUNT_COMPLETED",
    "COUNT_VARIANCE_POSTED",
    "Tolerance",
    "list_variances",
    "post_variance",
    "submit",
    "variance_view",
]

COUNT_COMPLETED = "count.completed"
COUNT_VARIANCE_POSTED = "count.variance_posted"
VARIANCE_STATUSES = ("accurate", "recount", "awaiting_approval", "approved", "posted", "rejected")
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Tolerance:
    units: int
    pct: float
    value: Decimal | None
    approval_value: Decimal

    @classmethod
    def from_settings(cls, s: Settings) -> Tolerance:
        return cls(
            units=s.count_tolerance_units,
            pct=s.count_tolerance_pct,
            value=s.count_tolerance_value,
            approval_value=s.count_approval_value,
        )

    def within(self, delta: int, book: int, value: Decimal | None) -> bool:
        """Within tolerance: the quantity is close enough (units, or percent of the book) and,
        when the item has a cost and a value tolerance is set, the value is too."""
        qty_ok = abs(delta) <= self.units or (self.pct > 0 and abs(delta) * 100 <= self.pct * book)
        value_ok = self.value is None or value is None or abs(value) <= self.value
        return delta == 0 or (qty_ok and value_ok)

    def needs_approval(self, value: Decimal | None) -> bool:
        """Items without a unit cost are never held for approval (their value is unknown)."""
        return value is not None and abs(value) > self.approval_value


def unit_cost(raw: Any) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        cost = Decimal(str(raw))
    except InvalidOperation:
        return None
    return cost if cost.is_finite() and cost >= 0 else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


# -- reading -------------------------------------------------------------------------------
_VIEW_SQL = """
SELECT v.*, l.code AS location, i.sku, i.description, t.recount_of,
       (SELECT o.counted_by FROM count_variances o JOIN count_tasks ot ON ot.id = o.task_id
        WHERE ot.id = t.recount_of AND o.location_id = v.location_id
          AND o.item_id = v.item_id AND o.lot = v.lot AND o.lpn = v.lpn
        ORDER BY o.id LIMIT 1) AS first_counter,
       (SELECT u.badge FROM count_variances o JOIN count_tasks ot ON ot.id = o.task_id
        JOIN users u ON u.id = o.counted_by
        WHERE ot.id = t.recount_of AND o.location_id = v.location_id
          AND o.item_id = v.item_id AND o.lot = v.lot AND o.lpn = v.lpn
        ORDER BY o.id LIMIT 1) AS first_counter_badge,
       (SELECT badge FROM users WHERE id = v.counted_by) AS counted_by_badge,
       (SELECT badge FROM users WHERE id = v.decided_by) AS decided_by_badge
FROM count_variances v
JOIN locations l ON l.id = v.location_id
JOIN items i ON i.id = v.item_id
JOIN count_tasks t ON t.id = v.task_id
"""


def variance_view(row: dict[str, Any]) -> dict[str, Any]:
    recount = row["recount_of"] is not None
    return {
        "id": row["id"],
        "task_id": row["task_id"],
        "location": row["location"],
        "sku": row["sku"],
        "description": row["description"],
        "lot": row["lot"],
        "expiry": row["expiry"],
        "lpn": row["lpn"],
        "stock_status": row["stock_status"],
        "book_qty": row["book_qty"],
        "counted_qty": row["counted_qty"],
        "delta": row["delta"],
        "unit_cost": row["unit_cost"],
        "value": row["value"],
        "counted_by": row["first_counter"] if recount else row["counted_by"],
        "recounted_by": row["counted_by"] if recount else None,
        "counted_by_badge": row["first_counter_badge"] if recount else row["counted_by_badge"],
        "recounted_by_badge": row["counted_by_badge"] if recount else None,
        "status": row["status"],
        "within_tolerance": bool(row["within_tolerance"]),
        "created_at": row["created_at"],
        "decided_by": row["decided_by"],
        "decided_by_badge": row["decided_by_badge"],
        "decided_at": row["decided_at"],
        "note": row["note"],
    }


def get_variance(source: Source, site: str, variance_id: int) -> dict[str, Any]:
    rows = fetch_rows(
        source,
        _VIEW_SQL + " JOIN sites s ON s.id = v.site_id WHERE v.id = ? AND s.code = ?",
        [variance_id, site],
    )
    if not rows:
        raise AislewayError(
            ErrorCode.COUNT_VARIANCE_NOT_FOUND, details={"variance_id": variance_id}
        )
    return rows[0]


def list_variances(
    source: Source,
    site: str,
    *,
    status: str | None = "awaiting_approval",
    task_id: int | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Variances oldest first. `approved`: posted after a supervisor's approval."""
    sql = _VIEW_SQL + " JOIN sites s ON s.id = v.site_id WHERE s.code = ?"
    params: list[Any] = [site]
    if status == "approved":
        sql += " AND v.status = 'posted' AND v.decided_by IS NOT NULL"
    elif status is not None:
        sql += " AND v.status = ?"
        params.append(status)
    if task_id is not None:
        sql += " AND v.task_id = ?"
        params.append(task_id)
    sql += " ORDER BY v.id LIMIT ?"
    params.append(limit)
    return [variance_view(r) for r in fetch_rows(source, sql, params)]


# -- posting ---------------------------------------------------------------------------------
def post_variance(
    w: SUDatabase, site: str, v: dict[str, Any], *, reason: str, actor: Actor
) -> dict[str, Any]:
    """Post the variance's delta against the key's CURRENT stock as a `count` movement, tell
    the world (`inventory.changed`, `count.variance_posted`). Raises
    COUNT_VARIANCE_NOT_POSTABLE (changing nothing) when the stock is allocated to orders or no
    longer there."""
    key = StockKey(v["location_id"], v["item_id"], v["lot"], v["lpn"], v["stock_status"])
    delta = int(v["delta"])
    ref = f"count-{v['task_id']}"
    # A savepoint, so a refusal deep in the ledger (or the allocation trigger) leaves nothing.
    w.execute("SAVEPOINT count_post")
    try:
        if delta > 0:
            mv = ledger.receive(
                w,
                key,
                delta,
                expiry=v.get("expiry"),
                movement_type="count",
                reason=reason,
                ref=ref,
                actor=actor,
            )
        else:
            mv = ledger.remove(
                w, key, -delta, movement_type="count", reason=reason, ref=ref, actor=actor
            )
    except (AislewayError, sqlite3.IntegrityError) as exc:
        w.execute("ROLLBACK TO count_post")
        w.execute("RELEASE count_post")
        code = exc.code.value if isinstance(exc, AislewayError) else ErrorCode.STOCK_ALLOCATED
        details = exc.details if isinstance(exc, AislewayError) else {}
        raise AislewayError(
            ErrorCode.COUNT_VARIANCE_NOT_POSTABLE,
            details={"variance_id": v["id"], "cause": str(code), **details},
        ) from None
    w.execute("RELEASE count_post")
    sku = w.execute("SELECT sku FROM items WHERE id = ?", [v["item_id"]]).fetchone()[0]
    inventory.announce(w, site, sku, mv)
    w.execute(
        "UPDATE count_variances SET status = 'posted', movement_id = ? WHERE id = ?",
        [mv.id, v["id"]],
    )
    view = variance_view(get_variance(w, site, v["id"]))
    emit(w, COUNT_VARIANCE_POSTED, {"site": site, "movement_id": mv.id, **view})
    return view


# -- submitting ------------------------------------------------------------------------------
def _keys(w: SUDatabase, t: dict[str, Any]) -> list[dict[str, Any]]:
    """Each key of the count: the counted lines, plus the keys on the books in the counted
    bins (and the task's scope) nobody counted — those count as 0, book taken now."""
    counted = fetch_rows(
        w,
        "SELECT location_id, item_id, lot, expiry, lpn, stock_status, counted_qty, "
        "book_qty_at_count AS book_qty, counted_by FROM count_lines "
        "WHERE task_id = ? AND status = 'counted' ORDER BY id",
        [t["id"]],
    )
    seen = {
        (c["location_id"], c["item_id"], c["lot"], c["lpn"], c["stock_status"]) for c in counted
    }
    sql = (
        "SELECT st.location_id, st.item_id, st.lot, lo.expiry, st.lpn, st.status AS stock_status, "
        "0 AS counted_qty, st.qty AS book_qty, NULL AS counted_by FROM stock st "
        "JOIN count_task_bins b ON b.location_id = st.location_id AND b.task_id = ? "
        "LEFT JOIN lots lo ON lo.item_id = st.item_id AND lo.lot = st.lot "
        "WHERE st.qty > 0 AND st.status = 'available'"
    )
    params: list[Any] = [t["id"]]
    if t["kind"] == "item":
        sql += " AND st.item_id = ?"
        params.append(t["item_id"])
    elif t["kind"] == "lpn":
        sql += " AND st.lpn = ?"
        params.append(t["lpn"])
    missed = [
        r
        for r in fetch_rows(w, sql + " ORDER BY st.id", params)
        if (r["location_id"], r["item_id"], r["lot"], r["lpn"], r["stock_status"]) not in seen
    ]
    return counted + missed


def submit(w: SUDatabase, settings: Settings, task_id: int, actor: Actor) -> dict[str, Any]:
    """Close counting of a task the caller holds and act on every key's variance."""
    site = settings.site
    t = held_task(w, site, task_id, actor.user_id)
    tol = Tolerance.from_settings(settings)
    first_count = t["recount_of"] is None
    now = iso()
    recount_bins: list[int] = []
    results: list[dict[str, Any]] = []
    for k in _keys(w, t):
        delta = int(k["counted_qty"]) - int(k["book_qty"])
        cost_raw = w.execute("SELECT unit_cost FROM items WHERE id = ?", [k["item_id"]]).fetchone()
        cost = unit_cost(cost_raw[0] if cost_raw else None)
        value = None if cost is None else cost * delta
        within = tol.within(delta, int(k["book_qty"]), value)
        if delta == 0:
            status = "accurate"
        elif first_count and not within:
            status = "recount"
            if k["location_id"] not in recount_bins:
                recount_bins.append(k["location_id"])
        elif tol.needs_approval(value):
            status = "awaiting_approval"
        else:
            status = "to_post"
        cur = w.execute(
            "INSERT INTO count_variances (site_id, task_id, location_id, item_id, lot, expiry, "
            "lpn, stock_status, book_qty, counted_qty, delta, unit_cost, value, "
            "within_tolerance, status, counted_by, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                t["site_id"],
                task_id,
                k["location_id"],
                k["item_id"],
                k["lot"],
                k["expiry"],
                k["lpn"],
                k["stock_status"],
                k["book_qty"],
                k["counted_qty"],
                delta,
                _money(cost),
                _money(value),
                int(within),
                "awaiting_approval" if status == "to_post" else status,
                k["counted_by"] or actor.user_id,
                now,
            ],
        )
        results.append(
            {
                **k,
                "id": int(cur.lastrowid or 0),
                "delta": delta,
                "status": status,
                "task_id": task_id,
            }
        )
    posted = 0
    held = 0
    for r in results:
        if r["status"] == "to_post":
            why = "count variance within tolerance" if first_count else "recount variance"
            try:
                post_variance(w, site, r, reason=why, actor=actor)
                posted += 1
            except AislewayError as exc:
                # Stock allocated to orders (or gone meanwhile): a supervisor decides.
                w.execute(
                    "UPDATE count_variances SET note = ? WHERE id = ?",
                    [f"not posted: {exc.details.get('cause', exc.code.value)}", r["id"]],
                )
                held += 1
        elif r["status"] == "awaiting_approval":
            held += 1
    recount_id: int | None = None
    if recount_bins:
        recount_id = create_task(
            w,
            site,
            kind=t["kind"],
            reason="recount",
            location_id=t["location_id"],
            item_id=t["item_id"],
            lpn=t["lpn"],
            bins=recount_bins,
            excluded_user=actor.user_id,
            recount_of=task_id,
        )
    outcome = (
        "recount"
        if recount_id is not None
        else "awaiting_approval"
        if held
        else "adjusted"
        if posted
        else "accurate"
    )
    w.execute(
        "UPDATE count_tasks SET status = 'closed', outcome = ?, finished_at = ? WHERE id = ?",
        [outcome, now, task_id],
    )
    close_requests(w, task_id)
    ref = f"count-{task_id}"
    labor.record(w, settings, task_type="count", task_ref=ref, actor=actor, step="handle")
    labor.finish(w, task_type="count", task_ref=ref, actor=actor)
    task = get_task(w, site, task_id)
    emit(
        w,
        COUNT_COMPLETED,
        {
            "site": site,
            "task": task,
            "outcome": outcome,
            "recount_task_id": recount_id,
            "keys": len(results),
            "posted": posted,
            "awaiting_approval": held,
            "recount": sum(1 for r in results if r["status"] == "recount"),
        },
    )
    out: dict[str, Any] = {"task": task, "outcome": outcome}
    if recount_id is not None:
        out["recount_task_id"] = recount_id
    return out
