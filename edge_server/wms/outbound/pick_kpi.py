"""The pick accuracy KPI, from `pick_events` (docs/picking.md#pick-accuracy).

- `picks`: confirmed picks (one per tote scan that posted stock), `units_picked` their units;
  `lines_picked`: pick lines finished in the period (status picked or short, by pick time).
- `mis_scans`: refused scans caught by the scenario, per kind (wrong bin, item, lot, tote,
  over-pick); each refusal changed nothing.
- `short_picks` / `units_short`: lines closed short (the bin held less than the books said).
- `wrong_items_shipped`: wrong products that reached customers (reported back by returns).
- `scan_accuracy_pct` = 100 × picks / (picks + mis-scans): how often a pick went through
  without a refused scan.
- `pick_accuracy_pct` = 100 × (picks − wrong items shipped) / picks: picks that were right
  once the customer had them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from edge_server.timeutil import iso
from edge_server.wms.outbound.shipping import wrong_items_units, wrong_shipments_summary
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.picking import MISSCAN_KINDS, PickEventKind

__all__ = ["picking_kpi"]


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _bounds(since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if since is not None:
        sql += " AND created_at >= ?"
        params.append(iso(_utc(since)))
    if until is not None:
        sql += " AND created_at < ?"
        params.append(iso(_utc(until)))
    return sql, params


def wrong_items_shipped(
    source: Source, sid: int, since: datetime | None, until: datetime | None
) -> int:
    """Wrong products shipped, as reported back through returns, in the period. Packing and
    returns fill this in; until then nothing is reported and it is 0."""
    return wrong_items_units(source, sid, since, until)


def _figures(counts: dict[str, tuple[int, int]], wrong_shipped: int) -> dict[str, Any]:
    picks, units = counts.get(PickEventKind.PICKED.value, (0, 0))
    shorts, units_short = counts.get(PickEventKind.SHORT.value, (0, 0))
    mis = {k.value: counts.get(k.value, (0, 0))[0] for k in MISSCAN_KINDS}
    total = sum(mis.values())
    return {
        "picks": picks,
        "units_picked": units,
        "mis_scans": mis,
        "mis_scans_total": total,
        "short_picks": shorts,
        "units_short": units_short,
        "substitutions": counts.get(PickEventKind.SUBSTITUTE.value, (0, 0))[0],
        "wrong_items_shipped": wrong_shipped,
        "scan_accuracy_pct": _pct(picks, picks + total),
        "pick_accuracy_pct": _pct(picks - wrong_shipped, picks),
    }


def picking_kpi(
    source: Source,
    site: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Pick accuracy over [since, until) (UTC), in total and per UTC day."""
    sid = site_id(source, site)
    where, params = _bounds(since, until)
    rows = fetch_rows(
        source,
        "SELECT substr(created_at, 1, 10) AS day, kind, COUNT(*) AS n, SUM(qty) AS units "
        f"FROM pick_events WHERE site_id = ?{where} GROUP BY day, kind ORDER BY day",
        [sid, *params],
    )
    total: dict[str, tuple[int, int]] = {}
    days: dict[str, dict[str, tuple[int, int]]] = {}
    for r in rows:
        n, units = int(r["n"]), int(r["units"] or 0)
        a, b = total.get(r["kind"], (0, 0))
        total[r["kind"]] = (a + n, b + units)
        days.setdefault(r["day"], {})[r["kind"]] = (n, units)
    line_where = where.replace("created_at", "pl.picked_at")
    lines_picked = int(
        fetch_rows(
            source,
            "SELECT COUNT(*) AS n FROM pick_lines pl JOIN pick_tasks t ON t.id = pl.task_id "
            f"WHERE t.site_id = ? AND pl.status IN ('picked', 'short') "
            f"AND pl.picked_at IS NOT NULL{line_where}",
            [sid, *params],
        )[0]["n"]
    )
    shipped = wrong_items_shipped(source, sid, since, until)
    return {
        "site": site,
        "since": iso(_utc(since)) if since else None,
        "until": iso(_utc(until)) if until else None,
        "lines_picked": lines_picked,
        **_figures(total, shipped),
        # Packing's share (docs/packing.md#pick-accuracy): wrong items per shipment, mis-scans
        # caught at packing.
        "shipping": wrong_shipments_summary(source, site, since, until),
        "by_day": [
            {"day": day, **_figures(counts, 0)}
            | {"wrong_items_shipped": None, "pick_accuracy_pct": None}
            for day, counts in days.items()
        ],
    }
