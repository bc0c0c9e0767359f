"""Labor rates, idle gaps and working hours over a period [since, until) (docs/labor.md).

Everything is computed from the recorded scans (`labor_scans`) whose scan time falls in the
period, so a task that runs across the period's edge counts the part inside it:

- **working seconds** = travel + handling of those scans (a task's first scan after an idle
  gap, or a worker's first scan ever, adds 0); idle is reported apart and never counts;
- **units / lines** = what those scans did; **tasks** = labor tasks *finished* (their end, the
  last scan, in the period; in the bucket of that end);
- **rate** per working hour — only once a group has at least `MIN_RATED_SECONDS` (a minute) of
  working time: below that the per-hour figures are null rather than wild (three scans a second
  apart are not "10,800 units an hour");
- **performance %** = earned standard hours / working hours × 100, where earned hours = Σ
  over task types of output (in the type's standard unit) / standard. For a group of one task
  type that is rate / standard × 100.
- hour, shift and day are those of the scan time in the site's time zone (`site_timezone`),
  shifts from `labor_shifts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso
from edge_server.wms.labor.shifts import parse_shifts, shift_of
from edge_server.wms.labor.standards import standards_map
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = ["GROUP_BY", "check_period", "gaps", "labor_hours", "rates", "tasks"]

GROUP_BY: tuple[str, ...] = ("worker", "task_type", "hour", "shift", "day")


def check_period(since: datetime, until: datetime) -> tuple[str, str]:
    """The period as stored (UTC ISO) texts; LABOR_PERIOD_INVALID unless since < until and
    both carry a time zone."""
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise AislewayError(
            ErrorCode.LABOR_PERIOD_INVALID,
            details={"since": since.isoformat(), "until": until.isoformat()},
        )
    return iso(since.astimezone(UTC)), iso(until.astimezone(UTC))


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else Settings()


def _worker(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["user_id"], "badge": row["badge"], "name": row["name"]}


@dataclass
class _Acc:
    keys: dict[str, Any]
    tasks: int = 0
    units: int = 0
    lines: int = 0
    scans: int = 0
    travel: float = 0.0
    handling: float = 0.0
    idle: float = 0.0
    # per task type: [units, lines, tasks], for the earned hours
    by_type: dict[str, list[int]] = field(default_factory=dict)

    def output(self, task_type: str) -> list[int]:
        return self.by_type.setdefault(task_type, [0, 0, 0])


MIN_RATED_SECONDS = 60.0


def _per_hour(n: int, hours: float) -> float | None:
    return round(n / hours, 2) if hours * 3600 >= MIN_RATED_SECONDS else None


def _row(acc: _Acc, standards: dict[str, tuple[str, float]]) -> dict[str, Any]:
    hours = (acc.travel + acc.handling) / 3600
    per = {
        "units": _per_hour(acc.units, hours),
        "lines": _per_hour(acc.lines, hours),
        "tasks": _per_hour(acc.tasks, hours),
    }
    types = sorted(acc.by_type)
    standard: float | None = None
    if len(types) == 1 and types[0] in standards:
        unit, standard = standards[types[0]]
    else:
        unit = "units"
    earned = 0.0
    for t, (units, lines, done) in acc.by_type.items():
        if t in standards:
            s_unit, per_hour = standards[t]
            earned += {"units": units, "lines": lines, "tasks": done}[s_unit] / per_hour
    rated = hours * 3600 >= MIN_RATED_SECONDS
    performance = round(earned / hours * 100, 1) if rated and standards else None
    return {
        **acc.keys,
        "tasks": acc.tasks,
        "units": acc.units,
        "lines": acc.lines,
        "scans": acc.scans,
        "hours": round(hours, 4),
        "travel_seconds": round(acc.travel, 3),
        "handling_seconds": round(acc.handling, 3),
        "idle_seconds": round(acc.idle, 3),
        "units_per_hour": per["units"],
        "lines_per_hour": per["lines"],
        "tasks_per_hour": per["tasks"],
        "rate": per[unit],
        "rate_unit": unit,
        "standard": standard,
        "performance_pct": performance,
    }


def rates(
    source: Source,
    site: str,
    *,
    since: datetime,
    until: datetime,
    group_by: Sequence[str] = ("worker", "task_type"),
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Rates per group (any of GROUP_BY; none: one row for the whole site). `settings` gives
    the time zone and shifts (default: read from the environment, as the server does)."""
    unknown = [g for g in group_by if g not in GROUP_BY]
    if unknown or len(set(group_by)) != len(group_by):
        raise AislewayError(
            ErrorCode.LABOR_GROUP_BY_UNKNOWN,
            details={"group_by": list(group_by), "allowed": list(GROUP_BY)},
        )
    lo, hi = check_period(since, until)
    cfg = _settings(settings)
    tz, shifts = ZoneInfo(cfg.site_timezone), parse_shifts(cfg.labor_shifts)

    def keys(row: dict[str, Any], when: str) -> dict[str, Any]:
        local = parse_iso(when).astimezone(tz)
        every = {
            "worker": _worker(row),
            "task_type": row["task_type"],
            "hour": local.hour,
            "shift": shift_of(shifts, local.time()),
            "day": local.date().isoformat(),
        }
        return {g: every[g] for g in group_by}

    groups: dict[tuple[Any, ...], _Acc] = {}

    def acc_for(k: dict[str, Any]) -> _Acc:
        ident = tuple(v["id"] if g == "worker" else v for g, v in k.items())
        return groups.setdefault(ident, _Acc(k))

    base = "FROM labor_tasks t JOIN sites si ON si.id = t.site_id JOIN users u ON u.id = t.user_id "
    for r in fetch_rows(
        source,
        "SELECT s.ts, s.units, s.lines, s.gap_seconds, s.gap_kind, t.task_type, t.user_id, "
        "u.badge, u.name " + base + "JOIN labor_scans s ON s.labor_task_id = t.id "
        "WHERE si.code = ? AND s.ts >= ? AND s.ts < ?",
        [site, lo, hi],
    ):
        a = acc_for(keys(r, r["ts"]))
        a.scans += 1
        a.units += r["units"]
        a.lines += r["lines"]
        gap = float(r["gap_seconds"])
        if r["gap_kind"] == "travel":
            a.travel += gap
        elif r["gap_kind"] == "handling":
            a.handling += gap
        elif r["gap_kind"] == "idle":
            a.idle += gap
        out = a.output(r["task_type"])
        out[0] += r["units"]
        out[1] += r["lines"]
    for r in fetch_rows(
        source,
        "SELECT t.ended_at, t.task_type, t.user_id, u.badge, u.name "
        + base
        + "WHERE si.code = ? AND t.ended_at IS NOT NULL AND t.ended_at >= ? AND t.ended_at < ?",
        [site, lo, hi],
    ):
        a = acc_for(keys(r, r["ended_at"]))
        a.tasks += 1
        a.output(r["task_type"])[2] += 1
    standards = standards_map(source)

    def order(a: _Acc) -> tuple[Any, ...]:
        return tuple(
            (v["badge"] if g == "worker" else ("" if v is None else v)) for g, v in a.keys.items()
        )

    return [_row(a, standards) for a in sorted(groups.values(), key=order)]


def labor_hours(source: Source, site: str, *, since: datetime, until: datetime) -> float:
    """Working hours (travel + handling) of every worker in [since, until)."""
    lo, hi = check_period(since, until)
    row = fetch_rows(
        source,
        "SELECT COALESCE(SUM(s.gap_seconds), 0) AS seconds FROM labor_scans s "
        "JOIN labor_tasks t ON t.id = s.labor_task_id JOIN sites si ON si.id = t.site_id "
        "WHERE si.code = ? AND s.ts >= ? AND s.ts < ? AND s.gap_kind IN ('travel', 'handling')",
        [site, lo, hi],
    )[0]
    return round(float(row["seconds"]) / 3600, 4)


def gaps(
    source: Source,
    site: str,
    *,
    since: datetime,
    until: datetime,
    user_id: int | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """Idle gaps: between two consecutive scans of one worker (on any tasks) in the period,
    longer than `labor_idle_gap_seconds`; per worker, oldest first."""
    lo, hi = check_period(since, until)
    threshold = _settings(settings).labor_idle_gap_seconds
    where = "si.code = ? AND s.ts >= ? AND s.ts < ?"
    params: list[Any] = [site, lo, hi]
    if user_id is not None:
        where += " AND t.user_id = ?"
        params.append(user_id)
    rows = fetch_rows(
        source,
        "SELECT s.ts, t.task_type, t.task_ref, t.user_id, u.badge, u.name FROM labor_scans s "
        "JOIN labor_tasks t ON t.id = s.labor_task_id JOIN sites si ON si.id = t.site_id "
        "JOIN users u ON u.id = t.user_id WHERE " + where + " ORDER BY u.badge, s.ts, s.id",
        params,
    )
    found: list[dict[str, Any]] = []
    for prev, nxt in pairwise(rows):
        if prev["user_id"] != nxt["user_id"]:
            continue
        seconds = (parse_iso(nxt["ts"]) - parse_iso(prev["ts"])).total_seconds()
        if seconds > threshold:
            found.append(
                {
                    "worker": _worker(prev),
                    "start": prev["ts"],
                    "end": nxt["ts"],
                    "seconds": round(seconds, 3),
                    "after": {"task_type": prev["task_type"], "task_ref": prev["task_ref"]},
                    "before": {"task_type": nxt["task_type"], "task_ref": nxt["task_ref"]},
                }
            )
    return found


def tasks(
    source: Source,
    site: str,
    *,
    since: datetime,
    until: datetime,
    user_id: int | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The raw labor task records that overlap the period, newest first."""
    lo, hi = check_period(since, until)
    where = "si.code = ? AND t.started_at < ? AND t.last_scan_at >= ?"
    params: list[Any] = [site, hi, lo]
    if user_id is not None:
        where += " AND t.user_id = ?"
        params.append(user_id)
    rows = fetch_rows(
        source,
        "SELECT t.*, u.badge, u.name, d.name AS device_name FROM labor_tasks t "
        "JOIN sites si ON si.id = t.site_id JOIN users u ON u.id = t.user_id "
        "LEFT JOIN devices d ON d.id = t.device_id WHERE "
        + where
        + " ORDER BY t.started_at DESC, t.id DESC LIMIT ?",
        [*params, limit],
    )
    return [
        {
            "id": r["id"],
            "task_type": r["task_type"],
            "task_ref": r["task_ref"],
            "worker": _worker(r),
            "device": {"id": r["device_id"], "name": r["device_name"]}
            if r["device_id"] is not None
            else None,
            "started_at": r["started_at"],
            "ended_at": r["ended_at"],
            "last_scan_at": r["last_scan_at"],
            "scans": r["scans"],
            "units": r["units"],
            "lines": r["lines"],
            "travel_seconds": round(float(r["travel_seconds"]), 3),
            "handling_seconds": round(float(r["handling_seconds"]), 3),
            "idle_seconds": round(float(r["idle_seconds"]), 3),
            "working_seconds": round(float(r["travel_seconds"] + r["handling_seconds"]), 3),
        }
        for r in rows
    ]
