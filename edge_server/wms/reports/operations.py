"""The operations report: per site day and in total, orders and SKUs in and out, the handoffs
an order goes through, the error rate, labor hours and a payback estimate
(docs/reports.md). Reads only.

Days are site days (`site_timezone`): a day runs from local midnight to local midnight, and
each figure falls on the day its event happened (an order on the day it was received, a
shipment and its wrong items on the day it left, labor on the day of the scan).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso
from edge_server.wms.labor.rates import labor_hours
from edge_server.wms.outbound.pick_kpi import wrong_items_shipped
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from edge_server.wms.reports.payback import PaybackInputs, payback
from protocols.errors import ErrorCode

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_DAYS",
    "EXPLAIN",
    "MAX_DAYS",
    "Period",
    "csv_rows",
    "operations_report",
    "order_flows",
    "period",
]

DEFAULT_DAYS = 7
MAX_DAYS = 366

#: What each figure means; the response carries these sentences, docs/reports.md says more.
EXPLAIN: dict[str, str] = {
    "orders_received": "Fulfillment orders the site received (created) that day, whatever "
    "happened to them later (cancelled ones included).",
    "orders_shipped": "Orders whose shipment was confirmed at the dock that day.",
    "skus_ordered": "Distinct items on the lines of the orders received that day (in the total: "
    "over the whole period, so not the sum of the days).",
    "skus_shipped": "Distinct items in the cartons shipped that day (total: over the period).",
    "units_shipped": "Units in the cartons shipped that day.",
    "shipments": "Shipments confirmed that day; one per order here, so equal to orders shipped. "
    "The error rate divides by it.",
    "wrong_items_shipped": "Units of wrong items reported back (through a return with reason "
    "wrong_item, or reported on the shipment) for shipments that left that day.",
    "error_rate_pct": "100 x wrong items shipped / shipments, for the shipments of that day; "
    "none without shipments. Wrong items reported later change the day their shipment left.",
    "labor_hours": "Working hours recorded by handheld scans that day: time between scans of a "
    "task spent travelling or handling, idle gaps left out (docs/labor.md).",
    "handoffs_avg": "For the orders shipped that day, the average number of times the order "
    "changed hands: intake, release, each picker, each packer, the dock, the carrier; two "
    "steps in a row by the same party are one hand.",
    "handoffs_max": "The most handoffs any order shipped that day went through.",
}

CSV_COLUMNS = (
    "day",
    "orders_received",
    "orders_shipped",
    "skus_ordered",
    "skus_shipped",
    "units_shipped",
    "shipments",
    "wrong_items_shipped",
    "error_rate_pct",
    "labor_hours",
    "handoffs_avg",
    "handoffs_max",
)


@dataclass(frozen=True, slots=True)
class Period:
    """Site days `since`..`until` (both included) and their UTC bounds."""

    since: date
    until: date
    tz: ZoneInfo

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    def bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        lo = datetime.combine(first, time(), self.tz).astimezone(UTC)
        hi = datetime.combine(last + timedelta(days=1), time(), self.tz).astimezone(UTC)
        return lo, hi

    def day_of(self, stamp: str) -> date:
        return parse_iso(stamp).astimezone(self.tz).date()


def period(
    settings: Settings, since: date | None, until: date | None, *, today: date | None = None
) -> Period:
    """The report period; by default the last 7 site days, today included.
    REPORT_PERIOD_INVALID when until is before since or it spans more than 366 days."""
    tz = ZoneInfo(settings.site_timezone)
    today = today or datetime.now(tz).date()
    last = until or (today if since is None else min(today, since + timedelta(DEFAULT_DAYS - 1)))
    first = since or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first or (last - first).days + 1 > MAX_DAYS:
        raise AislewayError(
            ErrorCode.REPORT_PERIOD_INVALID,
            details={"since": first.isoformat(), "until": last.isoformat(), "max_days": MAX_DAYS},
        )
    return Period(first, last, tz)


# -- counts ---------------------------------------------------------------------------------------
def _one(source: Source, sql: str, params: list[Any]) -> dict[str, Any]:
    return fetch_rows(source, sql, params)[0]


def _counts(source: Source, sid: int, lo: datetime, hi: datetime) -> dict[str, Any]:
    a, b = iso(lo), iso(hi)
    received = _one(
        source,
        "SELECT COUNT(*) AS n, (SELECT COUNT(DISTINCT fl.item_id) FROM fo_lines fl "
        "JOIN fulfillment_orders o ON o.id = fl.order_id WHERE o.site_id = ? "
        "AND o.created_at >= ? AND o.created_at < ?) AS skus "
        "FROM fulfillment_orders WHERE site_id = ? AND created_at >= ? AND created_at < ?",
        [sid, a, b, sid, a, b],
    )
    shipped = _one(
        source,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT order_id) AS orders, "
        "COALESCE(SUM(units), 0) AS units, (SELECT COUNT(DISTINCT cl.item_id) "
        "FROM carton_lines cl JOIN cartons c ON c.id = cl.carton_id "
        "JOIN shipments s2 ON s2.order_id = c.order_id WHERE s2.site_id = ? "
        "AND s2.shipped_at >= ? AND s2.shipped_at < ? AND c.status = 'shipped') AS skus "
        "FROM shipments WHERE site_id = ? AND shipped_at >= ? AND shipped_at < ?",
        [sid, a, b, sid, a, b],
    )
    shipments = int(shipped["n"])
    wrong = wrong_items_shipped(source, sid, lo, hi)
    return {
        "orders_received": int(received["n"]),
        "orders_shipped": int(shipped["orders"]),
        "skus_ordered": int(received["skus"]),
        "skus_shipped": int(shipped["skus"]),
        "units_shipped": int(shipped["units"]),
        "shipments": shipments,
        "wrong_items_shipped": wrong,
        "error_rate_pct": round(100.0 * wrong / shipments, 3) if shipments else None,
    }


# -- handoffs -------------------------------------------------------------------------------------
Party = tuple[str, Any]  # ("integration", None) | ("system", None) | ("user", id) | ("carrier", n)


def _party_view(party: Party, users: dict[int, dict[str, Any]]) -> dict[str, Any]:
    kind, ident = party
    if kind == "user":
        user = users.get(ident) if ident is not None else None
        return {
            "party": "user",
            "who": user["badge"] if user else None,
            "role": user["role"] if user else None,
        }
    if kind == "carrier":
        return {"party": "carrier", "who": ident, "role": None}
    return {"party": kind, "who": None, "role": None}


def order_flows(source: Source, sid: int, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """Each order shipped in [lo, hi), oldest shipment first, with the hands it passed
    through (`parties`: consecutive steps by the same party merged) and its handoffs."""
    window = [sid, iso(lo), iso(hi)]
    shipped_in = (
        "SELECT order_id FROM shipments WHERE site_id = ? AND shipped_at >= ? AND shipped_at < ?"
    )
    orders = fetch_rows(
        source,
        "SELECT s.order_id, s.shipped_at, s.shipped_by, o.number, o.carrier_service, "
        "w.release_mode, w.released_by, (SELECT c.carrier FROM cartons c WHERE "
        "c.order_id = s.order_id AND c.carrier IS NOT NULL ORDER BY c.carton_no LIMIT 1) "
        "AS carrier "
        "FROM shipments s JOIN fulfillment_orders o ON o.id = s.order_id "
        "LEFT JOIN waves w ON w.id = o.wave_id "
        "WHERE s.site_id = ? AND s.shipped_at >= ? AND s.shipped_at < ? "
        "ORDER BY s.shipped_at, s.id",
        window,
    )
    pickers: dict[int, list[Any]] = {}
    for r in fetch_rows(
        source,
        "SELECT fl.order_id, COALESCE(pl.picked_by, t.assigned_to) AS who, "
        "MIN(pl.picked_at) AS first FROM pick_lines pl "
        "JOIN fo_lines fl ON fl.id = pl.order_line_id "
        "JOIN pick_tasks t ON t.id = pl.task_id "
        f"WHERE pl.qty_picked > 0 AND fl.order_id IN ({shipped_in}) "
        "GROUP BY fl.order_id, who ORDER BY first, who",
        window,
    ):
        pickers.setdefault(r["order_id"], []).append(r["who"])
    packers: dict[int, list[Any]] = {}
    for r in fetch_rows(
        source,
        "SELECT order_id, sealed_by AS who, MIN(sealed_at) AS first FROM cartons "
        f"WHERE sealed_at IS NOT NULL AND order_id IN ({shipped_in}) "
        "GROUP BY order_id, who ORDER BY first, who",
        window,
    ):
        packers.setdefault(r["order_id"], []).append(r["who"])
    users = {int(u["id"]): u for u in fetch_rows(source, "SELECT id, badge, name, role FROM users")}
    flows = []
    for o in orders:
        steps: list[tuple[str, Party]] = [("intake", ("integration", None))]
        if o["release_mode"] == "supervisor" and o["released_by"] is not None:
            steps.append(("release", ("user", o["released_by"])))
        else:
            steps.append(("release", ("system", None)))
        steps += [("pick", ("user", who)) for who in pickers.get(o["order_id"], [])]
        steps += [("pack", ("user", who)) for who in packers.get(o["order_id"], [])]
        shipper: Party = (
            ("user", o["shipped_by"]) if o["shipped_by"] is not None else ("integration", None)
        )
        steps.append(("ship", shipper))
        steps.append(("carrier", ("carrier", o["carrier"] or o["carrier_service"])))
        parties: list[dict[str, Any]] = []
        last: Party | None = None
        for step, party in steps:
            if party == last:
                parties[-1]["steps"].append(step)
                continue
            parties.append({"steps": [step], **_party_view(party, users)})
            last = party
        flows.append(
            {
                "number": o["number"],
                "shipped_at": o["shipped_at"],
                "parties": parties,
                "handoffs": len(parties) - 1,
            }
        )
    return flows


def _pattern(flow: dict[str, Any]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """A flow with people replaced by their role: what the typical flow is made of."""
    return tuple(
        (tuple(p["steps"]), (p["role"] or "unknown") if p["party"] == "user" else p["party"])
        for p in flow["parties"]
    )


def _handoffs(flows: list[dict[str, Any]]) -> dict[str, Any]:
    if not flows:
        return {"orders": 0, "average": None, "max": None, "max_order": None, "typical_flow": None}
    counts = [f["handoffs"] for f in flows]
    worst = max(flows, key=lambda f: f["handoffs"])
    (pattern, n), *_ = Counter(_pattern(f) for f in flows).most_common(1)
    return {
        "orders": len(flows),
        "average": round(sum(counts) / len(counts), 2),
        "max": worst["handoffs"],
        "max_order": worst["number"],
        "typical_flow": {
            "parties": [{"steps": list(steps), "party": who} for steps, who in pattern],
            "handoffs": len(pattern) - 1,
            "orders": n,
        },
    }


# -- the report -----------------------------------------------------------------------------------
def operations_report(
    source: Source,
    settings: Settings,
    when: Period,
    *,
    with_flows: bool = False,
) -> dict[str, Any]:
    """The figures per site day and in total, the handoffs, the payback estimate, and a
    sentence for every figure (`explain`)."""
    site = settings.site
    sid = site_id(source, site)
    lo, hi = when.bounds(when.since, when.until)
    flows = order_flows(source, sid, lo, hi)
    by_day: dict[date, list[dict[str, Any]]] = {}
    for f in flows:
        by_day.setdefault(when.day_of(f["shipped_at"]), []).append(f)
    days = []
    for day in when.days:
        d_lo, d_hi = when.bounds(day, day)
        handoffs = _handoffs(by_day.get(day, []))
        days.append(
            {
                "day": day.isoformat(),
                **_counts(source, sid, d_lo, d_hi),
                "labor_hours": labor_hours(source, site, since=d_lo, until=d_hi),
                "handoffs_avg": handoffs["average"],
                "handoffs_max": handoffs["max"],
            }
        )
    total = {
        **_counts(source, sid, lo, hi),
        "labor_hours": labor_hours(source, site, since=lo, until=hi),
    }
    handoffs = _handoffs(flows)
    total |= {"handoffs_avg": handoffs["average"], "handoffs_max": handoffs["max"]}
    estimate = payback(
        PaybackInputs(
            days=len(when.days),
            shipments=total["shipments"],
            wrong_items_shipped=total["wrong_items_shipped"],
            labor_hours=total["labor_hours"],
            labor_cost_per_hour=settings.report_labor_cost_per_hour,
            cost_per_error=settings.report_cost_per_error,
            system_cost=settings.report_system_cost,
            monthly_running_cost=settings.report_monthly_running_cost,
            baseline_error_rate_pct=settings.report_baseline_error_rate_pct,
            baseline_labor_hours_factor=settings.report_baseline_labor_hours_factor,
        )
    )
    report: dict[str, Any] = {
        "site": site,
        "timezone": settings.site_timezone,
        "since": when.since.isoformat(),
        "until": when.until.isoformat(),
        "days": len(when.days),
        "total": total,
        "by_day": days,
        "handoffs": handoffs,
        "payback": estimate,
        "explain": EXPLAIN,
    }
    if with_flows:
        report["flows"] = flows
    return report


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report's days (and a last `total` row) as CSV rows under `CSV_COLUMNS`; empty
    figures are empty cells."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    for figures in [*report["by_day"], {"day": "total", **report["total"]}]:
        rows.append(["" if figures[c] is None else figures[c] for c in CSV_COLUMNS])
    return rows
