"""The ABC count schedule: every bin holding an item is counted at least every N days, N by
the item's velocity class (A 30, B 90, C 365 by default; `PUT /counts/schedule` changes them).

A bin × item is due when its last count (a submitted count of that bin and item) is older
than the interval; one never counted counts from the day the item was created, so a new site
is not flooded with counts on its first day. A due bin gets one bin count (reason
`schedule`) unless an open count already covers it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.settings import Settings
from edge_server.timeutil import iso
from edge_server.wms.counting.tasks import create_task, get_task, walk_order
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id

__all__ = ["CLASSES", "get_intervals", "run_schedule", "set_intervals"]

CLASSES = ("A", "B", "C")


def _defaults(settings: Settings) -> dict[str, int]:
    return {
        "A": settings.count_interval_a_days,
        "B": settings.count_interval_b_days,
        "C": settings.count_interval_c_days,
    }


def get_intervals(source: Source, settings: Settings) -> dict[str, int]:
    """Interval in days per velocity class (what the supervisor set, else the settings)."""
    out = _defaults(settings)
    for r in fetch_rows(
        source,
        "SELECT c.velocity, c.interval_days FROM count_schedule c JOIN sites s "
        "ON s.id = c.site_id WHERE s.code = ?",
        [settings.site],
    ):
        out[r["velocity"]] = int(r["interval_days"])
    return out


def set_intervals(w: SUDatabase, settings: Settings, intervals: dict[str, int]) -> dict[str, int]:
    site_pk = site_id(w, settings.site)
    for velocity, days in intervals.items():
        w.execute(
            "INSERT INTO count_schedule (site_id, velocity, interval_days, updated_at) "
            "VALUES (?,?,?,?) ON CONFLICT (site_id, velocity) DO UPDATE SET "
            "interval_days = excluded.interval_days, updated_at = excluded.updated_at",
            [site_pk, velocity, days, iso()],
        )
    return get_intervals(w, settings)


def due_bins(w: SUDatabase, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """Bins with a due bin × item, not covered by an open count, with why."""
    intervals = get_intervals(w, settings)
    rows = fetch_rows(
        w,
        "SELECT st.location_id, l.code AS location, i.sku, i.velocity, "
        "COALESCE((SELECT MAX(v.created_at) FROM count_variances v "
        "  WHERE v.location_id = st.location_id AND v.item_id = st.item_id), "
        "  i.created_at) AS since "
        "FROM stock st JOIN locations l ON l.id = st.location_id "
        "JOIN sites s ON s.id = l.site_id JOIN items i ON i.id = st.item_id "
        "WHERE s.code = ? AND st.qty > 0 AND l.active = 1 "
        "AND NOT EXISTS (SELECT 1 FROM count_task_bins b JOIN count_tasks t ON t.id = b.task_id "
        "  WHERE b.location_id = st.location_id AND t.status IN ('open', 'in_progress')) "
        "GROUP BY st.location_id, st.item_id",
        [settings.site],
    )
    due: dict[int, dict[str, Any]] = {}
    for r in rows:
        limit = now - timedelta(days=intervals[r["velocity"]])
        if r["since"] < iso(limit) and r["location_id"] not in due:
            due[r["location_id"]] = r
    return [due[i] for i in walk_order(w, list(due))]


def run_schedule(
    w: SUDatabase, settings: Settings, now: datetime, *, limit: int = 500
) -> dict[str, Any]:
    """Make the due scheduled counts (at most `limit` in one run); returns the tasks made."""
    made = []
    for r in due_bins(w, settings, now)[:limit]:
        task_id = create_task(
            w, settings.site, kind="bin", reason="schedule", location_id=r["location_id"]
        )
        made.append(get_task(w, settings.site, task_id))
    return {"created": len(made), "tasks": made, "intervals": get_intervals(w, settings)}
