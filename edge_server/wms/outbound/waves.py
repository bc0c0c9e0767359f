"""Waves: orders for one carrier service and cutoff, planned, released and finished together.

Planning groups unwaved, allocated orders by (carrier service, next cutoff) into waves of at
most `wave_max_orders`; releasing a planned wave decides each order's pick strategy
(strategy.py), batches what shares a cart and creates the pick tasks. See docs/waves.md.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from edge_server.wms.layout import Layout, layout_from_json
from edge_server.wms.outbound import pick_tasks
from edge_server.wms.outbound.batching import CartCapacity, OrderPicks, batch_orders
from edge_server.wms.outbound.strategy import (
    Decision,
    LineProfile,
    OrderProfile,
    PickRules,
    choose_strategy,
    item_cube,
)
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from edge_server.wms.routing.router import route
from protocols.errors import ErrorCode

__all__ = [
    "WAVE_CANCELLED",
    "WAVE_PLANNED",
    "WAVE_RELEASED",
    "WAVE_STATUSES",
    "WaveConfig",
    "cancel_wave",
    "get_wave",
    "list_waves",
    "next_cutoff",
    "order_profiles",
    "plan_waves",
    "refresh_wave_status",
    "release_wave",
]

WAVE_PLANNED = "wave.planned"
WAVE_RELEASED = "wave.released"
WAVE_CANCELLED = "wave.cancelled"
WAVE_STATUSES = ("planned", "released", "done", "cancelled")
ReleaseMode = Literal["supervisor", "auto"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class WaveConfig:
    """The settings waves work by (`wave_*`, `site_timezone`, `pick_*`)."""

    timezone: str = "UTC"
    max_orders: int = 50
    release_lead_minutes: int = 120
    ship_partial: bool = False
    at_risk_minutes: int = 30
    rules: PickRules = field(default_factory=PickRules)

    @classmethod
    def from_settings(cls, s: Settings) -> WaveConfig:
        return cls(
            timezone=s.site_timezone,
            max_orders=s.wave_max_orders,
            release_lead_minutes=s.wave_release_lead_minutes,
            ship_partial=s.wave_ship_partial,
            at_risk_minutes=s.wave_at_risk_minutes,
            rules=PickRules.from_settings(s),
        )


# -- cutoffs (pure) ---------------------------------------------------------------------------
def next_cutoff(now: datetime, cutoff_local: str, ship_days: str, tz: ZoneInfo) -> datetime | None:
    """The first cutoff strictly after `now` (aware): `cutoff_local` ('HH:MM', site-local in
    `tz`) on the next day whose ISO weekday digit is in `ship_days` (e.g. '12345'). Returned in
    UTC; None when the time is malformed or there is no ship day."""
    m = _HHMM.match(cutoff_local.strip())
    days = {int(c) for c in ship_days if c in "1234567"}
    if m is None or not days:
        return None
    at = time(int(m.group(1)), int(m.group(2)))
    today = now.astimezone(tz).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.isoweekday() not in days:
            continue
        # A wall time skipped by a DST jump resolves forward (fold=0), as zoneinfo does.
        cutoff = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if cutoff > now:
            return cutoff
    return None  # pragma: no cover - eight days always contain a ship day


def _minutes_between(now: datetime, then: datetime) -> int:
    return int((then - now).total_seconds() // 60)


# -- order facts --------------------------------------------------------------------------------
def _eligible(config: WaveConfig, alias: str = "o") -> str:
    """SQL condition: the order may be waved (status and, for partial shipping, allocation)."""
    if not config.ship_partial:
        return f"{alias}.status = 'allocated'"
    return (
        f"({alias}.status = 'allocated' OR ({alias}.status = 'backordered' AND EXISTS "
        f"(SELECT 1 FROM allocations a JOIN fo_lines fl ON fl.id = a.order_line_id "
        f"WHERE fl.order_id = {alias}.id)))"
    )


_ORDER_SORT = "o.priority DESC, COALESCE(o.promised_ship_date, '9999-12-31'), o.created_at, o.id"


@dataclass(frozen=True, slots=True)
class _Facts:
    profile: OrderProfile
    bins: tuple[str, ...]  # allocation locations, each once, by code
    zone_bins: dict[str, tuple[str, ...]]


def order_profiles(source: Source, order_ids: Sequence[int]) -> dict[int, OrderProfile]:
    """What each order's current allocations ask of a picker (for the strategy rules)."""
    return {k: v.profile for k, v in _facts(source, order_ids).items()}


def _facts(source: Source, order_ids: Sequence[int]) -> dict[int, _Facts]:
    if not order_ids:
        return {}
    marks = ",".join("?" * len(order_ids))
    rows = fetch_rows(
        source,
        "SELECT fl.order_id, fl.id AS line_id, i.sku, i.length_cm, i.width_cm, i.height_cm, "
        "i.velocity, a.qty, l.code AS location, COALESCE(z.code, '') AS zone "
        "FROM fo_lines fl JOIN allocations a ON a.order_line_id = fl.id "
        "JOIN items i ON i.id = fl.item_id JOIN locations l ON l.id = a.location_id "
        "LEFT JOIN zones z ON z.id = l.zone_id "
        f"WHERE fl.order_id IN ({marks}) AND fl.status != 'cancelled' ORDER BY fl.line_no, a.id",
        list(order_ids),
    )
    lines: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    bins: dict[int, set[str]] = defaultdict(set)
    zone_bins: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        line = lines[r["order_id"]].setdefault(
            r["line_id"],
            {
                "sku": r["sku"],
                "units": 0,
                "cube": item_cube(r["length_cm"], r["width_cm"], r["height_cm"]),
                "velocity": r["velocity"],
                "zones": set(),
            },
        )
        line["units"] += r["qty"]
        if r["zone"]:
            line["zones"].add(r["zone"])
        bins[r["order_id"]].add(r["location"])
        zone_bins[r["order_id"]][r["zone"]].add(r["location"])
    out: dict[int, _Facts] = {}
    for oid in order_ids:
        profile = OrderProfile(
            oid,
            tuple(
                LineProfile(
                    sku=ln["sku"],
                    units=ln["units"],
                    unit_cube_cm3=ln["cube"],
                    velocity=ln["velocity"],
                    zones=frozenset(ln["zones"]),
                )
                for ln in lines[oid].values()
            ),
        )
        out[oid] = _Facts(
            profile,
            tuple(sorted(bins[oid])),
            {z: tuple(sorted(b)) for z, b in zone_bins[oid].items()},
        )
    return out


# -- planning -----------------------------------------------------------------------------------
def _services(w: SUDatabase, sid: int) -> dict[str, dict[str, Any]]:
    rows = fetch_rows(w, "SELECT * FROM carrier_services WHERE site_id = ?", [sid])
    return {r["code"]: r for r in rows}


def _wave_number(w: SUDatabase, sid: int, day: date) -> str:
    prefix = f"W{day:%y%m%d}-"
    rows = fetch_rows(
        w,
        "SELECT number FROM waves WHERE site_id = ? AND number LIKE ?",
        [sid, prefix + "%"],
    )
    used = [int(r["number"][len(prefix) :]) for r in rows if r["number"][len(prefix) :].isdigit()]
    return f"{prefix}{max(used, default=0) + 1:03d}"


def _unplanned(order: dict[str, Any], why: str) -> dict[str, Any]:
    return {
        "number": order["number"],
        "carrier_service": order["carrier_service"],
        "code": ErrorCode.CARRIER_SERVICE_UNKNOWN.value,
        "reason": why,
    }


def _tidy_planned(w: SUDatabase, sid: int, config: WaveConfig) -> None:
    """Orders in planned waves that no longer belong there (carrier service changed by a
    PUT, no longer allocated) become unwaved again; cancelled ones are simply ignored."""
    w.execute(
        "UPDATE fulfillment_orders AS o SET wave_id = NULL "
        "WHERE o.site_id = ? AND o.status != 'cancelled' AND o.wave_id IN "
        "(SELECT id FROM waves WHERE site_id = ? AND status = 'planned') "
        "AND (o.carrier_service != (SELECT carrier_service FROM waves WHERE id = o.wave_id) "
        f"OR NOT {_eligible(config)})",
        [sid, sid],
    )


def plan_waves(w: SUDatabase, site: str, now: datetime, config: WaveConfig) -> dict[str, Any]:
    """Put every unwaved, allocated order of `site` into a planned wave for its carrier service
    and next cutoff (after `now`), filling existing planned waves of the same service and
    cutoff first. Returns the waves that received orders and the orders left out, with why."""
    sid = site_id(w, site)
    tz = ZoneInfo(config.timezone)
    _tidy_planned(w, sid, config)
    services = _services(w, sid)
    candidates = fetch_rows(
        w,
        "SELECT o.id, o.number, o.carrier_service FROM fulfillment_orders o "
        f"WHERE o.site_id = ? AND o.wave_id IS NULL AND {_eligible(config)} "
        f"ORDER BY {_ORDER_SORT}",
        [sid],
    )
    groups: dict[tuple[str, datetime], list[dict[str, Any]]] = defaultdict(list)
    unplanned: list[dict[str, Any]] = []
    for order in candidates:
        svc = services.get(order["carrier_service"])
        if svc is None:
            unplanned.append(_unplanned(order, "No carrier service with this code at the site."))
            continue
        if not svc["active"]:
            unplanned.append(_unplanned(order, "The carrier service is inactive."))
            continue
        cutoff = next_cutoff(now, svc["cutoff_local"], svc["ship_days"], tz)
        if cutoff is None:
            unplanned.append(
                _unplanned(order, "The carrier service has no valid cutoff time or ship days.")
            )
            continue
        groups[(svc["code"], cutoff)].append(order)

    touched: dict[str, dict[str, Any]] = {}
    lead = timedelta(minutes=config.release_lead_minutes)
    stamp = iso(now)
    for (code, cutoff), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        open_waves = fetch_rows(
            w,
            "SELECT wv.id, wv.number, (SELECT COUNT(*) FROM fulfillment_orders o "
            "WHERE o.wave_id = wv.id AND o.status != 'cancelled') AS n FROM waves wv "
            "WHERE wv.site_id = ? AND wv.status = 'planned' AND wv.carrier_service = ? "
            "AND wv.cutoff_at = ? ORDER BY wv.id",
            [sid, code, iso(cutoff)],
        )
        queue = list(members)
        slots = [(wv["id"], wv["number"], config.max_orders - wv["n"]) for wv in open_waves]
        while queue:
            if slots:
                wave_id, number, room = slots.pop(0)
            else:
                number = _wave_number(w, sid, cutoff.astimezone(tz).date())
                cur = w.execute(
                    "INSERT INTO waves (site_id, number, carrier_service, cutoff_at, "
                    "release_at, status, created_at) VALUES (?, ?, ?, ?, ?, 'planned', ?)",
                    [sid, number, code, iso(cutoff), iso(cutoff - lead), stamp],
                )
                wave_id, room = int(cur.lastrowid or 0), config.max_orders
            if room <= 0:
                continue
            taken, queue = queue[:room], queue[room:]
            w.conn.executemany(
                "UPDATE fulfillment_orders SET wave_id = ? WHERE id = ?",
                [(wave_id, o["id"]) for o in taken],
            )
            entry = touched.setdefault(
                number,
                {
                    "number": number,
                    "carrier_service": code,
                    "cutoff_at": iso(cutoff),
                    "release_at": iso(cutoff - lead),
                    "added": [],
                },
            )
            entry["added"].extend(o["number"] for o in taken)
    for entry in touched.values():
        emit(w, WAVE_PLANNED, {"site": site, **entry})
    return {"waves": list(touched.values()), "unplanned": unplanned}


# -- one wave -------------------------------------------------------------------------------
def _wave_row(source: Source, site: str, number: str) -> dict[str, Any]:
    found = fetch_rows(
        source,
        "SELECT wv.* FROM waves wv JOIN sites s ON s.id = wv.site_id "
        "WHERE s.code = ? AND wv.number = ?",
        [site, number],
    )
    if not found:
        raise AislewayError(ErrorCode.WAVE_NOT_FOUND, details={"number": number})
    return found[0]


def _refuse_unless_planned(wave: dict[str, Any]) -> None:
    if wave["status"] != "planned":
        raise AislewayError(
            ErrorCode.WAVE_NOT_PLANNED,
            details={"number": wave["number"], "status": wave["status"]},
        )


def _members(source: Source, wave_id: int) -> list[dict[str, Any]]:
    """The wave's orders (cancelled ones left out), in pick priority order."""
    return fetch_rows(
        source,
        "SELECT o.id, o.number, o.status, o.priority, o.promised_ship_date, o.created_at "
        "FROM fulfillment_orders o WHERE o.wave_id = ? AND o.status != 'cancelled' "
        f"ORDER BY {_ORDER_SORT}",
        [wave_id],
    )


def refresh_wave_status(w: SUDatabase, wave_id: int) -> None:
    """Mark a released wave `done` once every pick task in it is done or cancelled. Call it
    inside the write transaction that finishes a task; a no-op for any other wave state."""
    w.execute(
        "UPDATE waves SET status = 'done' WHERE id = ? AND status = 'released' "
        "AND NOT EXISTS (SELECT 1 FROM pick_tasks WHERE wave_id = waves.id "
        "AND status NOT IN ('done', 'cancelled'))",
        [wave_id],
    )


def cancel_wave(w: SUDatabase, site: str, number: str) -> dict[str, Any]:
    """Cancel a planned wave: its orders become unwaved (planned again at the next plan).
    Refuses WAVE_NOT_FOUND and WAVE_NOT_PLANNED, changing nothing."""
    wave = _wave_row(w, site, number)
    _refuse_unless_planned(wave)
    members = [o["number"] for o in _members(w, wave["id"])]
    w.execute("UPDATE fulfillment_orders SET wave_id = NULL WHERE wave_id = ?", [wave["id"]])
    w.execute("UPDATE waves SET status = 'cancelled' WHERE id = ?", [wave["id"]])
    emit(w, WAVE_CANCELLED, {"site": site, "number": number, "orders": members})
    return {"number": number, "status": "cancelled", "orders": members}


# -- release ----------------------------------------------------------------------------------
RouteLength = Callable[[Sequence[str]], float]


def _route_length(w: SUDatabase, site: str) -> tuple[RouteLength, Layout | None]:
    """The length of the tour a picker would walk (the routed tour, as the task gets it) over
    the site's stored layout, and the layout for batching's fast estimate; without a layout
    (bins made by hand, tests), the number of distinct bins stands in for distance."""
    row = fetch_rows(w, "SELECT layout_json FROM sites WHERE code = ?", [site])
    if not row or not row[0]["layout_json"]:
        return (lambda bins: float(len(set(bins)))), None
    layout = layout_from_json(row[0]["layout_json"])
    return (lambda bins: route(layout, bins).length), layout


@dataclass
class _TaskSpec:
    strategy: pick_tasks.Strategy
    order_ids: list[int]
    zone: str | None = None


def _plan_tasks(
    facts: dict[int, _Facts],
    decisions: dict[int, Decision],
    arrival: dict[int, int],
    rules: PickRules,
    length: tuple[RouteLength, Layout | None],
) -> list[_TaskSpec]:
    """The tasks a release creates, the most urgent order's first."""
    cart = CartCapacity(max_orders=rules.cart_totes, max_cube_cm3=rules.cart_cube_cm3)

    def picks(oid: int) -> OrderPicks:
        p = facts[oid].profile
        return OrderPicks(oid, facts[oid].bins, p.units, p.cube_cm3, arrival[oid])

    by_strategy: dict[str, list[int]] = defaultdict(list)
    for oid in sorted(decisions, key=arrival.__getitem__):
        by_strategy[decisions[oid].strategy].append(oid)
    specs = [_TaskSpec("discrete", [oid]) for oid in by_strategy["discrete"]]
    if by_strategy["batch"]:
        batches = batch_orders(
            [picks(o) for o in by_strategy["batch"]], cart, length[0], layout=length[1]
        )
        specs += [_TaskSpec("batch", list(b)) for b in batches]
    if by_strategy["zone"]:
        batches = batch_orders(
            [picks(o) for o in by_strategy["zone"]], cart, length[0], layout=length[1]
        )
        for b in batches:
            # Bins outside any zone exist only on sites built without a layout file.
            zones = sorted({z for oid in b for z in facts[oid].zone_bins if z})
            for zone in zones:
                specs.append(_TaskSpec("zone", [o for o in b if zone in facts[o].zone_bins], zone))
    specs.sort(key=lambda s: min(arrival[o] for o in s.order_ids))
    return specs


def release_wave(
    w: SUDatabase,
    site: str,
    number: str,
    *,
    mode: ReleaseMode,
    user_id: int | None,
    config: WaveConfig,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Release planned wave `number`: decide each order's strategy, batch, create the pick
    tasks, record who/how, emit `wave.released`. Orders no longer eligible leave the wave
    first. Refuses WAVE_NOT_FOUND and WAVE_NOT_PLANNED, changing nothing."""
    wave = _wave_row(w, site, number)
    _refuse_unless_planned(wave)
    now = now or utcnow()
    eligible = fetch_rows(
        w,
        f"SELECT o.id, o.number FROM fulfillment_orders o WHERE o.wave_id = ? AND "
        f"{_eligible(config)} ORDER BY {_ORDER_SORT}",
        [wave["id"]],
    )
    w.execute(
        f"UPDATE fulfillment_orders AS o SET wave_id = NULL WHERE o.wave_id = ? "
        f"AND o.status != 'cancelled' AND NOT {_eligible(config)}",
        [wave["id"]],
    )
    ids = [o["id"] for o in eligible]
    numbers = {o["id"]: o["number"] for o in eligible}
    arrival = {oid: i for i, oid in enumerate(ids)}
    facts = _facts(w, ids)
    decisions = {oid: choose_strategy(facts[oid].profile, config.rules) for oid in ids}
    specs = _plan_tasks(facts, decisions, arrival, config.rules, _route_length(w, site))
    tasks: list[dict[str, Any]] = []
    for spec in specs:
        task_id = pick_tasks.create_pick_task(
            w,
            site,
            strategy=spec.strategy,
            order_ids=spec.order_ids,
            wave_id=wave["id"],
            zone=spec.zone,
        )
        tasks.append(
            {
                "id": task_id,
                "strategy": spec.strategy,
                "zone": spec.zone,
                "orders": [numbers[o] for o in spec.order_ids],
            }
        )
    w.conn.executemany(
        "INSERT INTO wave_order_decisions (wave_id, order_id, strategy, rule, reason) "
        "VALUES (?, ?, ?, ?, ?)",
        [(wave["id"], oid, d.strategy, d.rule, d.reason) for oid, d in decisions.items()],
    )
    w.execute(
        "UPDATE waves SET status = 'released', release_mode = ?, released_at = ?, "
        "released_by = ? WHERE id = ?",
        [mode, iso(now), user_id, wave["id"]],
    )
    refresh_wave_status(w, wave["id"])  # nothing left to pick: done at once
    emit(
        w,
        WAVE_RELEASED,
        {
            "site": site,
            "number": number,
            "carrier_service": wave["carrier_service"],
            "cutoff_at": wave["cutoff_at"],
            "mode": mode,
            "orders": [numbers[o] for o in ids],
            "tasks": [t["id"] for t in tasks],
        },
    )
    return {
        "number": number,
        "mode": mode,
        "orders": [
            {
                "number": numbers[o],
                "strategy": decisions[o].strategy,
                "rule": decisions[o].rule,
                "reason": decisions[o].reason,
            }
            for o in ids
        ],
        "tasks": tasks,
    }


# -- reading ----------------------------------------------------------------------------------
def _at_risk(
    wave: dict[str, Any], now: datetime, unfinished: bool, config: WaveConfig
) -> list[str]:
    """Why the wave may miss its truck (empty: on track); docs/waves.md#progress-and-at-risk."""
    if wave["status"] not in ("planned", "released"):
        return []
    cutoff = parse_iso(wave["cutoff_at"])
    left = _minutes_between(now, cutoff)
    why: list[str] = []
    if wave["status"] == "planned" and now >= parse_iso(wave["release_at"]):
        why.append("not released and its release time has passed")
    if unfinished and left <= config.at_risk_minutes:
        if left < 0:
            why.append("the cutoff has passed with picking unfinished")
        else:
            why.append(f"{left} minutes to cutoff with picking unfinished")
    return why


def _summary(
    source: Source, wave: dict[str, Any], now: datetime, config: WaveConfig
) -> dict[str, Any]:
    counts = fetch_rows(
        source,
        "SELECT (SELECT COUNT(*) FROM fulfillment_orders WHERE wave_id = ?1 "
        "AND status != 'cancelled') AS orders, "
        "(SELECT COUNT(*) FROM pick_tasks WHERE wave_id = ?1) AS tasks, "
        "(SELECT COUNT(*) FROM pick_tasks WHERE wave_id = ?1 "
        "AND status IN ('open', 'in_progress')) AS open_tasks",
        [wave["id"]],
    )[0]
    unfinished = (wave["status"] == "planned" and counts["orders"] > 0) or counts["open_tasks"] > 0
    risk = _at_risk(wave, now, unfinished, config)
    return {
        "number": wave["number"],
        "status": wave["status"],
        "carrier_service": wave["carrier_service"],
        "cutoff_at": wave["cutoff_at"],
        "release_at": wave["release_at"],
        "release_mode": wave["release_mode"],
        "released_at": wave["released_at"],
        "released_by": wave["released_by"],
        "created_at": wave["created_at"],
        "orders": counts["orders"],
        "tasks": counts["tasks"],
        "minutes_to_cutoff": _minutes_between(now, parse_iso(wave["cutoff_at"])),
        "at_risk": bool(risk),
        "at_risk_reasons": risk,
    }


def list_waves(
    source: Source,
    site: str,
    config: WaveConfig,
    *,
    status: str | None = None,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of the site's waves, earliest cutoff first, with counts and at-risk flags."""
    now = now or utcnow()
    where, params = "s.code = ?", [site]
    if status is not None:
        where += " AND wv.status = ?"
        params.append(status)
    base = f"FROM waves wv JOIN sites s ON s.id = wv.site_id WHERE {where}"
    total = fetch_rows(source, f"SELECT COUNT(*) AS n {base}", params)[0]["n"]
    rows = fetch_rows(
        source,
        f"SELECT wv.* {base} ORDER BY wv.cutoff_at, wv.number LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {
        "items": [_summary(source, r, now, config) for r in rows],
        "total": int(total),
        "limit": limit,
        "offset": offset,
    }


def get_wave(
    source: Source, site: str, number: str, config: WaveConfig, *, now: datetime | None = None
) -> dict[str, Any]:
    """One wave with its progress: orders (and each one's strategy and why), tasks by
    status, lines and units picked/short/total, minutes to cutoff and at-risk reasons."""
    now = now or utcnow()
    wave = _wave_row(source, site, number)
    out = _summary(source, wave, now, config)
    members = _members(source, wave["id"])
    tasks = fetch_rows(
        source,
        "SELECT t.id, t.strategy, t.zone, t.status, t.assigned_to, t.started_at, t.finished_at, "
        "(SELECT COUNT(*) FROM pick_lines pl WHERE pl.task_id = t.id "
        "AND pl.status != 'cancelled') AS lines, "
        "(SELECT json_group_array(o.number) FROM pick_task_orders pto "
        "JOIN fulfillment_orders o ON o.id = pto.order_id WHERE pto.task_id = t.id) AS orders "
        "FROM pick_tasks t WHERE t.wave_id = ? ORDER BY t.id",
        [wave["id"]],
    )
    by_status = dict.fromkeys(("open", "in_progress", "done", "cancelled"), 0)
    for t in tasks:
        by_status[t["status"]] += 1
        t["orders"] = json.loads(t["orders"] or "[]")
        t["zone"] = t["zone"] or None
    if wave["status"] == "planned":
        facts = _facts(source, [o["id"] for o in members])
        decisions = {oid: choose_strategy(f.profile, config.rules) for oid, f in facts.items()}
        lines = sum(len(f.profile.lines) for f in facts.values())
        units = sum(f.profile.units for f in facts.values())
        progress = {
            "lines": {"total": lines, "picked": 0, "short": 0, "open": lines},
            "units": {"total": units, "picked": 0, "short": 0, "open": units},
        }
    else:
        stored = fetch_rows(
            source,
            "SELECT order_id, strategy, rule, reason FROM wave_order_decisions WHERE wave_id = ?",
            [wave["id"]],
        )
        decisions = {r["order_id"]: Decision(r["strategy"], r["rule"], r["reason"]) for r in stored}
        agg = fetch_rows(
            source,
            "SELECT COUNT(*) AS lines, "
            "COALESCE(SUM(pl.status = 'picked'), 0) AS lines_picked, "
            "COALESCE(SUM(pl.status = 'short'), 0) AS lines_short, "
            "COALESCE(SUM(pl.qty), 0) AS units, COALESCE(SUM(pl.qty_picked), 0) AS picked, "
            "COALESCE(SUM(pl.qty_short), 0) AS short "
            "FROM pick_lines pl JOIN pick_tasks t ON t.id = pl.task_id "
            "WHERE t.wave_id = ? AND pl.status != 'cancelled'",
            [wave["id"]],
        )[0]
        progress = {
            "lines": {
                "total": agg["lines"],
                "picked": agg["lines_picked"],
                "short": agg["lines_short"],
                "open": agg["lines"] - agg["lines_picked"] - agg["lines_short"],
            },
            "units": {
                "total": agg["units"],
                "picked": agg["picked"],
                "short": agg["short"],
                "open": agg["units"] - agg["picked"] - agg["short"],
            },
        }
    out["progress"] = {"tasks": by_status, **progress}
    out["order_list"] = [
        {
            "number": o["number"],
            "status": o["status"],
            "priority": o["priority"],
            "promised_ship_date": o["promised_ship_date"],
            "strategy": decisions[o["id"]].strategy if o["id"] in decisions else None,
            "strategy_reason": decisions[o["id"]].reason if o["id"] in decisions else None,
        }
        for o in members
    ]
    out["task_list"] = tasks
    return out
