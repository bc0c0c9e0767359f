"""Inventory record accuracy (IRA) and the supervisor's counting summary.

IRA counts the final result of every stock key counted in the window: a first count that
went to a recount is replaced by the recount's result. A key is accurate when its count was
within tolerance of the books (exactly equal with the default tolerance of 0).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.timeutil import iso, utcnow
from edge_server.wms.counting.tasks import summary_counts
from edge_server.wms.counting.variances import CENT, list_variances
from edge_server.wms.purchase_orders import fetch_rows

__all__ = ["counting_summary", "ira"]


def _figure(counted: int, accurate: int) -> dict[str, Any]:
    pct = round(100.0 * accurate / counted, 2) if counted else None
    return {"counted": counted, "accurate": accurate, "pct": pct}


def ira(source: Database | SUDatabase, site: str, *, days: int = 90) -> dict[str, Any]:
    """IRA over the last `days` days: overall, by velocity class and by zone."""
    since = iso(utcnow() - timedelta(days=days))
    rows = fetch_rows(
        source,
        "SELECT i.velocity, COALESCE(z.code, '') AS zone, v.within_tolerance AS ok "
        "FROM count_variances v JOIN sites s ON s.id = v.site_id "
        "JOIN items i ON i.id = v.item_id JOIN locations l ON l.id = v.location_id "
        "LEFT JOIN zones z ON z.id = l.zone_id "
        "WHERE s.code = ? AND v.created_at >= ? AND v.status != 'recount'",
        [site, since],
    )
    overall = [0, 0]
    by_class: dict[str, list[int]] = {c: [0, 0] for c in ("A", "B", "C")}
    by_zone: dict[str, list[int]] = {}
    for r in rows:
        ok = int(bool(r["ok"]))
        for bucket in (overall, by_class[r["velocity"]], by_zone.setdefault(r["zone"], [0, 0])):
            bucket[0] += 1
            bucket[1] += ok
    return {
        "days": days,
        "overall": _figure(*overall),
        "by_class": {c: _figure(*v) for c, v in by_class.items()},
        "by_zone": {z: _figure(*v) for z, v in sorted(by_zone.items())},
    }


def counting_summary(source: Database | SUDatabase, site: str) -> dict[str, Any]:
    """Open work and the variances awaiting approval (oldest first) with their total value."""
    waiting = list_variances(source, site, status="awaiting_approval")
    total = sum((abs(Decimal(v["value"])) for v in waiting if v["value"] is not None), Decimal(0))
    return {
        **summary_counts(source, site),
        "awaiting_approval": len(waiting),
        "awaiting_value": str(total.quantize(CENT)),
        "variances": waiting,
    }
