"""Directed putaway and replenishment tasks: created with a suggested bin (room reserved),
confirmed by scanning the bin, which moves the stock in the same transaction.

Every function taking `w` runs inside the caller's write transaction. Room is counted in that
transaction from stock plus the open tasks' reservations, and all writes go through the one
writer, so two putaways created at the same moment can never both take a bin's last space.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from edge_server.wms import inventory
from edge_server.wms.distances import TravelDistances, site_travel
from edge_server.wms.ledger import Actor
from edge_server.wms.putaway import count_hook
from edge_server.wms.putaway.slotting import (
    BinState,
    ItemProfile,
    Suggestion,
    allowed_types,
    choose_bin,
    room_for,
    zone_refusal,
)
from protocols.barcodes import PLACE_KINDS, parse_scan
from protocols.errors import ErrorCode
from protocols.inventory import MoveIn

__all__ = [
    "MAX_SPLITS",
    "OVERRIDE_REASONS",
    "PUTAWAY_CONFIRMED",
    "confirm_task",
    "create_putaway_tasks",
    "get_task",
    "insert_task",
    "item_profile",
    "list_tasks",
    "next_task",
    "putaway_kpi",
    "report_bin_full",
    "suggest",
]

PUTAWAY_CONFIRMED = "putaway.confirmed"
#: Why a worker put stock somewhere else than suggested (the handheld shows these).
OVERRIDE_REASONS = (
    "bin_full",
    "bin_damaged",
    "item_does_not_fit",
    "bin_blocked",
    "supervisor_instruction",
    "other",
)
MAX_SPLITS = 20  # bins one received quantity may be spread over before a supervisor steps in

Source = Database | SUDatabase


def _conn(source: Source) -> SUDatabase:
    return source.read if isinstance(source, Database) else source


def _site_id(w: SUDatabase, site: str) -> int:
    row = w.execute("SELECT id FROM sites WHERE code = ?", [site]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": site})
    return int(row[0])


def item_profile(w: SUDatabase, sku: str) -> ItemProfile:
    row = w.execute(
        "SELECT id, sku, velocity, temperature_class, hazmat, length_cm * width_cm * height_cm, "
        "weight_kg FROM items WHERE sku = ?",
        [sku],
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.UNKNOWN_ITEM, details={"sku": sku})
    return ItemProfile(
        item_id=int(row[0]),
        sku=row[1],
        velocity=row[2],
        temperature_class=row[3],
        hazmat=bool(row[4]),
        unit_volume_cm3=row[5],
        unit_weight_kg=row[6],
    )


_BIN_COLUMNS = (
    "id, code, type, temperature_class, hazmat_allowed, max_volume_cm3, max_weight_kg, max_skus"
)


def _bin(row: Any) -> BinState:
    return BinState(
        location_id=int(row[0]),
        code=row[1],
        type=row[2],
        temperature_class=row[3],
        hazmat_allowed=bool(row[4]),
        max_volume_cm3=row[5],
        max_weight_kg=row[6],
        max_skus=row[7],
    )


def _fill(w: SUDatabase, bins: dict[int, BinState], where: str, params: list[Any]) -> None:
    """Add stock and open tasks' reservations to `bins` (rows chosen by `where` on `l`)."""
    for loc, item, lot, qty, vol, kg in w.execute(
        "SELECT st.location_id, st.item_id, st.lot, SUM(st.qty), "
        "i.length_cm * i.width_cm * i.height_cm, i.weight_kg "
        "FROM stock st JOIN locations l ON l.id = st.location_id "
        f"JOIN items i ON i.id = st.item_id WHERE {where} "
        "GROUP BY st.location_id, st.item_id, st.lot",
        params,
    ).fetchall():
        b = bins.get(loc)
        if b is None:
            continue
        b.item_ids.add(item)
        b.lots[(item, lot)] = b.lots.get((item, lot), 0) + qty
        b.used_volume_cm3 += qty * (vol or 0.0)
        b.used_weight_kg += qty * (kg or 0.0)


def _reserve(w: SUDatabase, bins: dict[int, BinState], site_id: int, skip_task: int | None) -> None:
    for loc, item, qty, vol, kg in w.execute(
        "SELECT t.to_location_id, t.item_id, SUM(t.qty), "
        "i.length_cm * i.width_cm * i.height_cm, i.weight_kg "
        "FROM stock_tasks t JOIN items i ON i.id = t.item_id "
        "WHERE t.site_id = ? AND t.status = 'open' AND t.to_location_id IS NOT NULL "
        "AND t.id != ? GROUP BY t.to_location_id, t.item_id",
        [site_id, skip_task or 0],
    ).fetchall():
        b = bins.get(loc)
        if b is None:
            continue
        b.item_ids.add(item)
        b.used_volume_cm3 += qty * (vol or 0.0)
        b.used_weight_kg += qty * (kg or 0.0)


def _candidate_bins(
    w: SUDatabase, site_id: int, item: ItemProfile, status: str, skip_task: int | None
) -> list[BinState]:
    """Bins of rule 1 (zone) with their stock and reservations; the rest is slotting's."""
    types = sorted(allowed_types(status))
    marks = ",".join("?" * len(types))
    where = (
        f"l.site_id = ? AND l.active = 1 AND l.type IN ({marks}) AND l.temperature_class = ?"
        + (" AND l.hazmat_allowed = 1" if item.hazmat else "")
    )
    params: list[Any] = [site_id, *types, item.temperature_class]
    bins = {
        int(r[0]): _bin(r)
        for r in w.execute(f"SELECT {_BIN_COLUMNS} FROM locations l WHERE {where}", params)
    }
    _fill(w, bins, where, params)
    _reserve(w, bins, site_id, skip_task)
    return list(bins.values())


def _one_bin(w: SUDatabase, location_id: int, site_id: int, skip_task: int | None) -> BinState:
    row = w.execute(f"SELECT {_BIN_COLUMNS} FROM locations l WHERE id = ?", [location_id])
    b = _bin(row.fetchone())
    bins = {b.location_id: b}
    _fill(w, bins, "l.id = ?", [location_id])
    _reserve(w, bins, site_id, skip_task)
    return b


def suggest(
    w: SUDatabase,
    site: str,
    item: ItemProfile,
    qty: int,
    *,
    lot: str = "",
    status: str = "available",
    position: str | None = None,
    exclude: Collection[str] = (),
    skip_task: int | None = None,
    travel: TravelDistances | None = None,
) -> Suggestion:
    """Slot `qty` of `item` at `site` as things stand inside this transaction."""
    travel = travel or site_travel(w, site)
    bins = _candidate_bins(w, _site_id(w, site), item, status, skip_task)
    from_depot = travel.from_depot()
    depot_m = {b.code: from_depot[travel.node(b.code)] for b in bins}
    if position:
        from_here = travel.from_node(travel.node(position))

        def travel_from(code: str) -> float:
            return from_here[travel.node(code)]
    else:

        def travel_from(code: str) -> float:
            return depot_m[code]

    return choose_bin(
        item,
        qty,
        lot=lot,
        status=status,
        bins=bins,
        depot_m=depot_m,
        travel_from=travel_from,
        position=position,
        exclude=exclude,
    )


def insert_task(
    w: SUDatabase,
    *,
    site_id: int,
    kind: str,
    item_id: int,
    lot: str,
    lpn: str,
    status: str,
    qty: int,
    from_id: int,
    to_id: int | None,
    reason: str,
    alternates: list[dict[str, Any]],
    excluded: list[str],
    ref: str,
    actor: Actor,
) -> int:
    cur = w.execute(
        "INSERT INTO stock_tasks (site_id, kind, item_id, lot, lpn, stock_status, qty, "
        "from_location_id, to_location_id, reason, alternates_json, excluded_json, ref, "
        "created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            site_id,
            kind,
            item_id,
            lot,
            lpn,
            status,
            qty,
            from_id,
            to_id,
            reason,
            json.dumps(alternates),
            json.dumps(excluded),
            ref,
            iso(),
            actor.user_id,
        ],
    )
    return int(cur.lastrowid or 0)


def _place(
    w: SUDatabase,
    site: str,
    *,
    item: ItemProfile,
    from_code: str,
    lot: str,
    lpn: str,
    status: str,
    qty: int,
    position: str,
    excluded: list[str],
    ref: str,
    actor: Actor,
) -> list[int]:
    """Putaway tasks for `qty`, split over as many bins as it takes (up to MAX_SPLITS); what
    does not fit becomes one task without a bin, for a supervisor."""
    site_id = _site_id(w, site)
    from_id = inventory.location_id(w, site, from_code)
    travel = site_travel(w, site)
    ids: list[int] = []
    left = qty
    while left > 0:
        s = (
            suggest(
                w,
                site,
                item,
                left,
                lot=lot,
                status=status,
                position=position,
                exclude=excluded,
                travel=travel,
            )
            if len(ids) < MAX_SPLITS
            else Suggestion(None, 0, (), f"spread over {MAX_SPLITS} bins already")
        )
        placed = s.qty if s.bin is not None else left
        ids.append(
            insert_task(
                w,
                site_id=site_id,
                kind="putaway",
                item_id=item.item_id,
                lot=lot,
                lpn=lpn,
                status=status,
                qty=placed,
                from_id=from_id,
                to_id=s.bin.location_id if s.bin else None,
                reason=s.reason,
                alternates=[c.as_dict() for c in s.alternates],
                excluded=excluded,
                ref=ref,
                actor=actor,
            )
        )
        left -= placed
    return ids


def _unclaimed(w: SUDatabase, from_id: int, item_id: int, lot: str, lpn: str, status: str) -> int:
    """Stock at the source not yet promised to an open task."""
    row = w.execute(
        "SELECT COALESCE((SELECT qty FROM stock WHERE location_id = ? AND item_id = ? AND lot = ? "
        "AND lpn = ? AND status = ?), 0) - COALESCE((SELECT SUM(qty) FROM stock_tasks "
        "WHERE status = 'open' AND from_location_id = ? AND item_id = ? AND lot = ? AND lpn = ? "
        "AND stock_status = ?), 0)",
        [from_id, item_id, lot, lpn, status] * 2,
    ).fetchone()
    return int(row[0])


def create_putaway_tasks(
    w: SUDatabase,
    site: str,
    *,
    location: str,
    lpn: str,
    sku: str,
    lot: str,
    qty: int,
    status: str,
    ref: str = "",
    actor: Actor | None = None,
) -> list[int]:
    """Putaway tasks for stock that is at `location` (a receiving dock, usually): one task
    per bin it goes to, each with its suggestion and reserved room. Returns the task ids.

    Call inside the write transaction that received the stock (receiving does, after each
    LPN). Refuses INSUFFICIENT_STOCK if the stock is not there or already has open tasks."""
    item = item_profile(w, sku)
    from_id = inventory.location_id(w, site, location)
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise AislewayError(ErrorCode.QUANTITY_INVALID, details={"qty": qty})
    free = _unclaimed(w, from_id, item.item_id, lot, lpn, status)
    if free < qty:
        raise AislewayError(
            ErrorCode.INSUFFICIENT_STOCK, details={"requested": qty, "on_hand": max(free, 0)}
        )
    return _place(
        w,
        site,
        item=item,
        from_code=location,
        lot=lot,
        lpn=lpn,
        status=status,
        qty=qty,
        position=location,  # the worker picks the goods up here
        excluded=[],
        ref=ref,
        actor=actor or Actor(),
    )


# -- reading -----------------------------------------------------------------------------------
_TASK_SELECT = """
SELECT t.*, i.sku, i.description, lf.code AS from_code, lt.code AS to_code,
       lc.code AS confirmed_code, u.badge AS confirmed_badge
FROM stock_tasks t
JOIN sites s ON s.id = t.site_id
JOIN items i ON i.id = t.item_id
JOIN locations lf ON lf.id = t.from_location_id
LEFT JOIN locations lt ON lt.id = t.to_location_id
LEFT JOIN locations lc ON lc.id = t.confirmed_location_id
LEFT JOIN users u ON u.id = t.confirmed_by
"""


def _view(row: Any) -> dict[str, Any]:
    r = dict(row)
    return {
        "id": r["id"],
        "kind": r["kind"],
        "status": r["status"],
        "sku": r["sku"],
        "description": r["description"],
        "lot": r["lot"],
        "lpn": r["lpn"],
        "stock_status": r["stock_status"],
        "qty": r["qty"],
        "from_location": r["from_code"],
        "to_location": r["to_code"],
        "reason": r["reason"],
        "alternates": json.loads(r["alternates_json"]),
        "excluded": json.loads(r["excluded_json"]),
        "ref": r["ref"],
        "created_at": r["created_at"],
        "confirmed_location": r["confirmed_code"],
        "override_reason": r["override_reason"],
        "confirmed_by": r["confirmed_badge"],
        "confirmed_at": r["confirmed_at"],
    }


def get_task(source: Source, site: str, task_id: int, *, kind: str | None = None) -> dict[str, Any]:
    row = (
        _conn(source)
        .execute(_TASK_SELECT + "WHERE s.code = ? AND t.id = ?", [site, task_id])
        .fetchone()
    )
    if row is None or (kind is not None and row["kind"] != kind):
        raise AislewayError(ErrorCode.TASK_NOT_FOUND, details={"task": task_id})
    return _view(row)


def list_tasks(
    source: Source, site: str, *, kind: str, status: str | None = "open", limit: int = 100
) -> list[dict[str, Any]]:
    where = "WHERE s.code = ? AND t.kind = ?"
    params: list[Any] = [site, kind]
    if status is not None:
        where += " AND t.status = ?"
        params.append(status)
    rows = _conn(source).execute(_TASK_SELECT + where + " ORDER BY t.id LIMIT ?", [*params, limit])
    return [_view(r) for r in rows.fetchall()]


def next_task(
    source: Source,
    site: str,
    *,
    kind: str,
    position: str | None = None,
    user_id: int | None = None,
) -> dict[str, Any] | None:
    """The open task with a bin whose pick-up point is nearest `position` (oldest first
    among equals; oldest overall without a position). A task a supervisor handed to a worker
    (`assigned_to`) goes to that worker first and is never offered to anyone else. Reads only."""
    rows = (
        _conn(source)
        .execute(
            _TASK_SELECT + "WHERE s.code = ? AND t.kind = ? AND t.status = 'open' "
            "AND t.to_location_id IS NOT NULL AND (t.assigned_to IS NULL OR t.assigned_to = ?) "
            "ORDER BY t.id LIMIT 500",
            [site, kind, user_id],
        )
        .fetchall()
    )
    mine = [r for r in rows if user_id is not None and r["assigned_to"] == user_id]
    rows = mine or rows
    if not rows:
        return None
    if not position:
        return _view(rows[0])
    travel = site_travel(source, site)
    here = travel.from_node(travel.node(position))
    best = min(rows, key=lambda r: (here[travel.node(r["from_code"])], r["id"]))
    view = _view(best)
    view["travel_m"] = round(here[travel.node(best["from_code"])], 1)
    return view


# -- confirming ----------------------------------------------------------------------------------
def _open_task(w: SUDatabase, site: str, task_id: int, kind: str) -> dict[str, Any]:
    row = w.execute(_TASK_SELECT + "WHERE s.code = ? AND t.id = ?", [site, task_id]).fetchone()
    if row is None or row["kind"] != kind:
        raise AislewayError(ErrorCode.TASK_NOT_FOUND, details={"task": task_id})
    if row["status"] != "open":
        raise AislewayError(
            ErrorCode.TASK_CLOSED, details={"task": task_id, "status": row["status"]}
        )
    return dict(row)


def _scanned_location(
    w: SUDatabase, site: str, scan: str, symbology: str | None, gs_substitute: str | None
) -> tuple[int, str]:
    code = parse_scan(
        scan, symbology=symbology, gs_substitute=gs_substitute, expect=PLACE_KINDS
    ).value
    return inventory.location_id(w, site, code), code


def _check_override(
    w: SUDatabase, task: dict[str, Any], location_id: int, code: str, reason_code: str | None
) -> None:
    if task["kind"] == "replenish":
        raise AislewayError(
            ErrorCode.REPLENISHMENT_WRONG_BIN,
            details={"expected": task["to_code"], "scanned": code},
        )
    if not reason_code:
        raise AislewayError(
            ErrorCode.PUTAWAY_OVERRIDE_REASON_REQUIRED,
            details={
                "suggested": task["to_code"],
                "scanned": code,
                "reasons": list(OVERRIDE_REASONS),
            },
        )
    if reason_code not in OVERRIDE_REASONS:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="That reason is not one of the override reasons.",
            details={"reason_code": reason_code, "reasons": list(OVERRIDE_REASONS)},
        )
    item = item_profile(w, task["sku"])
    b = _one_bin(w, location_id, task["site_id"], skip_task=task["id"])
    why = zone_refusal(item, task["stock_status"], b)
    if why is not None:
        raise AislewayError(
            ErrorCode.PUTAWAY_BIN_NOT_ALLOWED, details={"location": code, "why": why}
        )
    fits = room_for(item, b)
    if fits is not None and fits < task["qty"]:
        raise AislewayError(
            ErrorCode.PUTAWAY_BIN_NO_ROOM,
            details={"location": code, "qty": task["qty"], "fits": fits},
        )


def confirm_task(
    w: SUDatabase,
    site: str,
    task_id: int,
    *,
    scan: str,
    kind: str = "putaway",
    reason_code: str | None = None,
    actor: Actor | None = None,
    count_every_nth: int = 0,
    symbology: str | None = None,
    gs_substitute: str | None = None,
) -> dict[str, Any]:
    """The worker scanned bin `scan` for task `task_id`: move the stock there and close the
    task. Another bin than suggested is an override and needs `reason_code` (putaway only;
    replenishment must go to its pick face). Any refusal changes nothing."""
    actor = actor or Actor()
    task = _open_task(w, site, task_id, kind)
    location_id, code = _scanned_location(w, site, scan, symbology, gs_substitute)
    overridden = location_id != task["to_location_id"]
    if overridden:
        _check_override(w, task, location_id, code, reason_code)
    movement = inventory.move(
        w,
        site,
        MoveIn(
            from_location=task["from_code"],
            to_location=code,
            sku=task["sku"],
            qty=task["qty"],
            lot=task["lot"],
            lpn=task["lpn"],
            status=task["stock_status"],
            # A replenished pick face holds loose units, not the reserve pallet's LPN.
            to_lpn="" if kind == "replenish" else None,
            ref=f"task-{task_id}",
        ),
        actor,
        kind="putaway" if kind == "putaway" else "replenish",
    )
    w.execute(
        "UPDATE stock_tasks SET status = 'done', confirmed_location_id = ?, override_reason = ?, "
        "confirmed_at = ?, confirmed_by = ?, device_id = ?, movement_id = ? WHERE id = ?",
        [
            location_id,
            reason_code if overridden else None,
            iso(),
            actor.user_id,
            actor.device_id,
            movement["movement_id"],
            task_id,
        ],
    )
    count_request: int | None = None
    if kind == "putaway":
        event = count_hook.PutawayConfirmed(
            site=site,
            task_id=task_id,
            location_id=location_id,
            location=code,
            item_id=task["item_id"],
            sku=task["sku"],
            lot=task["lot"],
            qty=task["qty"],
            suggested=task["to_code"],
            override_reason=reason_code if overridden else None,
        )
        emit(w, PUTAWAY_CONFIRMED, event.payload())
        count_request = count_hook.after_putaway(
            w, event, count_every_nth=count_every_nth, assigned_to=actor.user_id
        )
    view = get_task(w, site, task_id)
    # A count asked for while the worker is at the bin: the handheld offers it next.
    count_task = None
    if count_request is not None:
        from edge_server.wms.counting.tasks import task_for_request

        count_task = task_for_request(w, count_request, assigned_to=actor.user_id)
    return {
        "task": view,
        "movement": movement,
        "count_request_id": count_request,
        "count_task_id": count_task,
    }


def report_bin_full(
    w: SUDatabase,
    site: str,
    task_id: int,
    *,
    scan: str | None = None,
    actor: Actor | None = None,
) -> dict[str, Any]:
    """The suggested bin (or the scanned one) is full: leave it out for this task, ask for a
    count of it (the books said it had room), and suggest the next bin from there."""
    actor = actor or Actor()
    task = _open_task(w, site, task_id, "putaway")
    if scan:
        location_id, full = _scanned_location(w, site, scan, None, None)
    elif task["to_code"]:
        location_id, full = task["to_location_id"], task["to_code"]
    else:
        raise AislewayError(ErrorCode.PUTAWAY_NO_BIN, details={"task": task_id})
    excluded = sorted({*json.loads(task["excluded_json"]), full})
    count_hook.request_count(
        w,
        site_id=task["site_id"],
        location_id=location_id,
        item_id=None,
        reason="bin_full",
        ref=f"task-{task_id}",
    )
    item = item_profile(w, task["sku"])
    s = suggest(
        w,
        site,
        item,
        task["qty"],
        lot=task["lot"],
        status=task["stock_status"],
        position=full,  # the worker is standing at the full bin
        exclude=excluded,
        skip_task=task_id,
    )
    kept = s.qty if s.bin is not None else task["qty"]
    w.execute(
        "UPDATE stock_tasks SET to_location_id = ?, qty = ?, reason = ?, alternates_json = ?, "
        "excluded_json = ? WHERE id = ?",
        [
            s.bin.location_id if s.bin else None,
            kept,
            s.reason,
            json.dumps([c.as_dict() for c in s.alternates]),
            json.dumps(excluded),
            task_id,
        ],
    )
    more: list[int] = []
    if kept < task["qty"]:
        more = _place(
            w,
            site,
            item=item,
            from_code=task["from_code"],
            lot=task["lot"],
            lpn=task["lpn"],
            status=task["stock_status"],
            qty=task["qty"] - kept,
            position=full,
            excluded=excluded,
            ref=task["ref"],
            actor=actor,
        )
    return {"task": get_task(w, site, task_id), "more_tasks": more}


# -- KPI -------------------------------------------------------------------------------------------
def putaway_kpi(
    source: Source, site: str, *, day_from: str | None = None, day_to: str | None = None
) -> dict[str, Any]:
    """Confirmed putaways and overrides per worker and UTC day, with the override share."""
    where = "s.code = ? AND t.kind = 'putaway' AND t.status = 'done'"
    params: list[Any] = [site]
    if day_from:
        where += " AND substr(t.confirmed_at, 1, 10) >= ?"
        params.append(day_from)
    if day_to:
        where += " AND substr(t.confirmed_at, 1, 10) <= ?"
        params.append(day_to)
    rows = (
        _conn(source)
        .execute(
            "SELECT substr(t.confirmed_at, 1, 10) AS day, u.badge AS worker, COUNT(*) AS tasks, "
            "SUM(t.override_reason IS NOT NULL) AS overrides, SUM(t.qty) AS units "
            "FROM stock_tasks t JOIN sites s ON s.id = t.site_id "
            f"LEFT JOIN users u ON u.id = t.confirmed_by WHERE {where} "
            "GROUP BY day, t.confirmed_by ORDER BY day, worker",
            params,
        )
        .fetchall()
    )
    reasons = (
        _conn(source)
        .execute(
            "SELECT t.override_reason, COUNT(*) FROM stock_tasks t "
            f"JOIN sites s ON s.id = t.site_id WHERE {where} AND t.override_reason IS NOT NULL "
            "GROUP BY t.override_reason ORDER BY t.override_reason",
            params,
        )
        .fetchall()
    )
    items = [
        {
            "day": r["day"],
            "worker": r["worker"],
            "tasks": r["tasks"],
            "overrides": r["overrides"],
            "units": r["units"],
            "override_share": round(r["overrides"] / r["tasks"], 4),
        }
        for r in rows
    ]
    tasks = sum(i["tasks"] for i in items)
    overrides = sum(i["overrides"] for i in items)
    return {
        "items": items,
        "total": {
            "tasks": tasks,
            "overrides": overrides,
            "override_share": round(overrides / tasks, 4) if tasks else 0.0,
        },
        "override_reasons": {r[0]: r[1] for r in reasons},
    }
