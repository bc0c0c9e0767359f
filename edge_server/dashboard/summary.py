"""The dashboard's one summary of the floor: every tile's figures in one JSON, from plain reads.

Each panel is a small function over the read connection; the KPIs reuse the modules that
define them (receiving_kpi, pick_kpi, waves, counting.kpi, labor.rates) so the page never
shows a number the API would compute differently. See docs/dashboard.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from edge_server.db import Database
from edge_server.integration.terminal_reports import device_queues
from edge_server.scenarios.receiving_kpi import receiving_accuracy
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from edge_server.wms.counting.kpi import counting_summary, ira
from edge_server.wms.labor.rates import rates
from edge_server.wms.outbound.pick_kpi import picking_kpi
from edge_server.wms.outbound.waves import WaveConfig, list_waves
from protocols.status import STATUS_MAP, OmsStatus

__all__ = ["AGE_BUCKETS", "OFFLINE_AFTER_SECONDS", "TREND_DAYS", "build_summary"]

#: Days of history in the trend charts (today included).
TREND_DAYS = 7
#: A handheld heartbeats every 60 s (terminal/client/replay.py); three missed → offline.
OFFLINE_AFTER_SECONDS = 180
#: Age buckets of open orders, by hours since the order reached the site: (label, upper bound).
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("lt_1h", 1),
    ("1_4h", 4),
    ("4_24h", 24),
    ("gt_24h", float("inf")),
)
#: Latency figures are taken over the most recent deliveries only (keeps the read cheap).
LATENCY_SAMPLE = 1000

# The edge's FO statuses → the unified (OMS) status, straight from the one status map.
_UNIFIED: dict[str, str] = {
    row.status: row.oms.value
    for row in STATUS_MAP
    if row.event == "fulfillment_order.changed" and row.status and row.oms
}
_CLOSED_FO = ("shipped", "cancelled")


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight today in the site's time zone (the labor day)."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


# -- panels -----------------------------------------------------------------------------------
def receiving_panel(db: Database, settings: Settings, now: datetime) -> dict[str, Any]:
    """Receiving accuracy over the trend window against its target, and per day."""
    target = settings.receiving_accuracy_target
    data = receiving_accuracy(
        db, target=target, day_from=now.date() - timedelta(days=TREND_DAYS - 1), day_to=now.date()
    )
    by_day: dict[str, list[int]] = {}
    for row in data["days"]:
        lines, accurate = by_day.setdefault(row["day"], [0, 0])
        by_day[row["day"]] = [lines + row["lines"], accurate + row["accurate"]]
    today = now.date().isoformat()
    lines_today, accurate_today = by_day.get(today, [0, 0])
    return {
        "target_pct": target,
        "from": data["from"],
        "to": data["to"],
        "lines": data["overall"]["lines"],
        "accurate": data["overall"]["accurate"],
        "accuracy_pct": data["overall"]["accuracy_pct"],
        "meets_target": data["overall"]["meets_target"],
        "today": {
            "lines": lines_today,
            "accurate": accurate_today,
            "accuracy_pct": _pct(accurate_today, lines_today),
        },
        "trend": [
            {"day": day, "lines": n, "accurate": a, "accuracy_pct": _pct(a, n)}
            for day, (n, a) in sorted(by_day.items())
        ],
    }


def picking_panel(db: Database, site: str, now: datetime) -> dict[str, Any]:
    """Pick accuracy (and scan accuracy, mis-scans, shorts) over the trend window, per day."""
    since = datetime.combine(now.date() - timedelta(days=TREND_DAYS - 1), datetime.min.time())
    data = picking_kpi(db, site, since=since.replace(tzinfo=now.tzinfo))
    return {
        "from": since.date().isoformat(),
        "picks": data["picks"],
        "units_picked": data["units_picked"],
        "lines_picked": data["lines_picked"],
        "mis_scans_total": data["mis_scans_total"],
        "mis_scans": data["mis_scans"],
        "short_picks": data["short_picks"],
        "wrong_items_shipped": data["wrong_items_shipped"],
        "scan_accuracy_pct": data["scan_accuracy_pct"],
        "pick_accuracy_pct": data["pick_accuracy_pct"],
        "trend": [
            {
                "day": d["day"],
                "picks": d["picks"],
                "mis_scans_total": d["mis_scans_total"],
                "scan_accuracy_pct": d["scan_accuracy_pct"],
            }
            for d in data["by_day"]
        ],
    }


def _age_bucket(hours: float) -> str:
    for label, upper in AGE_BUCKETS:
        if hours < upper:
            return label
    return AGE_BUCKETS[-1][0]  # pragma: no cover - the last bound is infinite


def orders_panel(db: Database, site: str, now: datetime) -> dict[str, Any]:
    """Open fulfillment orders by unified status (protocols/status.py) and age; orders
    shipped and cancelled today."""
    rows = db.query(
        "SELECT o.status, o.created_at, o.updated_at, wv.status AS wave_status "
        "FROM fulfillment_orders o JOIN sites s ON s.id = o.site_id "
        "LEFT JOIN waves wv ON wv.id = o.wave_id WHERE s.code = ? "
        "AND (o.status NOT IN ('shipped', 'cancelled') OR o.updated_at >= ?)",
        [site, iso(now - timedelta(hours=24))],
    )
    buckets = [label for label, _ in AGE_BUCKETS]
    by_status: dict[str, dict[str, Any]] = {}
    closed = dict.fromkeys(_CLOSED_FO, 0)
    oldest: str | None = None
    for r in rows:
        if r["status"] in _CLOSED_FO:
            closed[r["status"]] += 1
            continue
        unified = _UNIFIED.get(r["status"], r["status"])
        if r["status"] == "allocated" and r["wave_status"] == "planned":
            unified = OmsStatus.WAVE_PLANNED.value
        entry = by_status.setdefault(
            unified, {"status": unified, "total": 0, "ages": dict.fromkeys(buckets, 0)}
        )
        hours = (now - parse_iso(r["created_at"])).total_seconds() / 3600
        entry["total"] += 1
        entry["ages"][_age_bucket(hours)] += 1
        oldest = r["created_at"] if oldest is None or r["created_at"] < oldest else oldest
    ranked = [s.value for s in OmsStatus]
    statuses = sorted(by_status.values(), key=lambda e: ranked.index(e["status"]))
    return {
        "open": sum(e["total"] for e in statuses),
        "by_status": statuses,
        "age_buckets": buckets,
        "oldest_open_at": oldest,
        "shipped_24h": closed["shipped"],
        "cancelled_24h": closed["cancelled"],
    }


def waves_panel(db: Database, settings: Settings, now: datetime) -> dict[str, Any]:
    """Planned and released waves against their carrier cutoffs, earliest cutoff first."""
    config = WaveConfig.from_settings(settings)
    items: list[dict[str, Any]] = []
    for status in ("planned", "released"):
        page = list_waves(db, settings.site, config, status=status, now=now, limit=100)
        items.extend(page["items"])
    items.sort(key=lambda w: (w["cutoff_at"], w["number"]))
    return {
        "at_risk_minutes": config.at_risk_minutes,
        "at_risk": sum(1 for w in items if w["at_risk"]),
        "items": [
            {
                k: w[k]
                for k in (
                    "number",
                    "status",
                    "carrier_service",
                    "cutoff_at",
                    "release_at",
                    "orders",
                    "tasks",
                    "minutes_to_cutoff",
                    "at_risk",
                    "at_risk_reasons",
                )
            }
            for w in items
        ],
    }


def labor_panel(db: Database, settings: Settings, now: datetime) -> dict[str, Any]:
    """Today's (site-local day) rates per worker and task type, with each type's standard."""
    since = _day_start(now, ZoneInfo(settings.site_timezone))
    until = max(now, since + timedelta(seconds=1))  # rates wants since < until
    rows = rates(
        db,
        settings.site,
        since=since,
        until=until,
        group_by=("worker", "task_type"),
        settings=settings,
    )
    return {
        "since": iso(since),
        "until": iso(now),
        "rows": [
            {
                "worker": r.get("worker"),
                "task_type": r.get("task_type"),
                "tasks": r["tasks"],
                "units": r["units"],
                "lines": r["lines"],
                "hours": r["hours"],
                "rate": r["rate"],
                "rate_unit": r["rate_unit"],
                "standard": r["standard"],
                "performance_pct": r["performance_pct"],
            }
            for r in rows
        ],
    }


def counting_panel(db: Database, site: str) -> dict[str, Any]:
    """IRA over 90 days (overall, by class and zone) and counts/variances waiting."""
    return {"ira": ira(db, site, days=90), **counting_summary(db, site)}


def handhelds_panel(db: Database, now: datetime) -> dict[str, Any]:
    """Paired handhelds: online (seen in the last OFFLINE_AFTER_SECONDS) or offline, with the
    scans queued on each (from its last heartbeat) and open refused commands."""
    devices = []
    for d in device_queues(db):
        if d["revoked_at"] is not None:
            continue
        seen = d["seen_at"] or d["last_seen_at"]
        online = (
            seen is not None and (now - parse_iso(seen)).total_seconds() <= OFFLINE_AFTER_SECONDS
        )
        devices.append(
            {
                "device_id": d["device_id"],
                "name": d["name"],
                "online": online,
                "last_seen_at": seen,
                "pending": int(d["pending"] or 0),
                "open_rejections": int(d["open_rejections"] or 0),
                "app_version": d["app_version"],
            }
        )
    return {
        "online": sum(1 for d in devices if d["online"]),
        "offline": sum(1 for d in devices if not d["online"]),
        "pending_scans": sum(d["pending"] for d in devices),
        "open_rejections": sum(d["open_rejections"] for d in devices),
        "offline_after_seconds": OFFLINE_AFTER_SECONDS,
        "devices": devices,
    }


def _percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


def integration_panel(db: Database, now: datetime) -> dict[str, Any]:
    """Webhook deliveries (pending, failed, latency event → delivered) and the outbox."""
    counts = db.query_one(
        "SELECT "
        "(SELECT COUNT(*) FROM webhook_subscribers WHERE active = 1) AS subscribers, "
        "(SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending') AS pending, "
        "(SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed') AS failed, "
        "(SELECT MIN(o.created_at) FROM webhook_deliveries d JOIN outbox o "
        " ON o.id = d.outbox_id WHERE d.status = 'pending') AS oldest_pending_at, "
        "(SELECT COUNT(*) FROM outbox WHERE created_at >= ?) AS events_24h, "
        "(SELECT MAX(id) FROM outbox) AS last_event_seq, "
        "(SELECT COUNT(*) FROM terminal_rejections WHERE acknowledged_at IS NULL) "
        " AS terminal_rejections_open",
        [iso(now - timedelta(hours=24))],
    )
    assert counts is not None
    latencies = sorted(
        float(r["ms"])
        for r in db.query(
            "SELECT (julianday(d.delivered_at) - julianday(o.created_at)) * 86400000.0 AS ms "
            "FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id "
            "WHERE d.status = 'delivered' AND d.delivered_at >= ? "
            "ORDER BY d.id DESC LIMIT ?",
            [iso(now - timedelta(hours=24)), LATENCY_SAMPLE],
        )
    )
    p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
    oldest = counts["oldest_pending_at"]
    backlog_age = (now - parse_iso(oldest)).total_seconds() if oldest else None
    return {
        "subscribers": counts["subscribers"],
        "pending": counts["pending"],
        "failed": counts["failed"],
        "oldest_pending_at": oldest,
        "backlog_seconds": round(backlog_age, 1) if backlog_age is not None else None,
        "delivered_24h": len(latencies),
        "latency_ms": {
            "p50": round(p50) if p50 is not None else None,
            "p95": round(p95) if p95 is not None else None,
        },
        "events_24h": counts["events_24h"],
        "last_event_seq": counts["last_event_seq"] or 0,
        "terminal_rejections_open": counts["terminal_rejections_open"],
        "healthy": counts["failed"] == 0 and (backlog_age is None or backlog_age < 300),
    }


def build_summary(
    db: Database, settings: Settings, *, now: datetime | None = None
) -> dict[str, Any]:
    """Every tile's figures, as `GET /api/v1/dashboard/summary` returns them."""
    now = now or utcnow()
    site = settings.site
    # Until a layout is loaded the site has no row; the site-keyed panels are then empty.
    loaded = db.query_one("SELECT 1 AS ok FROM sites WHERE code = ?", [site]) is not None
    return {
        "site": site,
        "layout_loaded": loaded,
        "generated_at": iso(now),
        "receiving": receiving_panel(db, settings, now),
        "picking": picking_panel(db, site, now) if loaded else None,
        "orders": orders_panel(db, site, now),
        "waves": waves_panel(db, settings, now),
        "labor": labor_panel(db, settings, now) if loaded else None,
        "counting": counting_panel(db, site) if loaded else None,
        "handhelds": handhelds_panel(db, now),
        "integration": integration_panel(db, now),
    }
