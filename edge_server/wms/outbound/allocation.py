"""Stock allocation for fulfillment orders: a pure ranking of candidate stock and one DB step.

Rules, in order (docs/outbound.md#allocation-rules):

1. Only stock in status `available`, in an active `pick_face` or `reserve` location of the
   site, never a lot whose expiry date is before today (UTC). Quarantine and damaged stock,
   docks, staging, packing, shipping, returns and quarantine locations are never allocated.
2. Expiry-tracked items, FEFO: the earliest lot expiry first (lots without an expiry last).
   Other items, FIFO: the lot received first (its first receipt movement) first. Items that
   are not lot-tracked have one lot (''), so this tier is a tie for them.
3. Within the same expiry/age tier: pick faces before reserve.
4. Then the stock key that received stock first (the first movement into it), then the
   location code (a stable tie-break).

Clients' picking rules (docs/client-rules.md) narrow the candidates for their orders: lots
that expire before the promised ship date (or today) plus the client's minimum shelf life,
and blocked lots, are skipped; with `single_lot_per_line` a line is served by the first lot
in rank order that can cover all of it, or stays short. House orders (owner '') have none.

Allocated quantity counts against availability: per stock key (location × item × lot × LPN,
status available) the sum of allocations never exceeds what is on hand. The check runs inside
the caller's write transaction (one writer at a time) and a trigger refuses anything beyond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso, utcnow
from edge_server.wms.clients import picking_rules
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.errors import ErrorCode

__all__ = [
    "ALLOCATABLE_LOCATION_TYPES",
    "FO_BACKORDERED",
    "FO_CHANGED",
    "Candidate",
    "LotRules",
    "allocate_order",
    "availability",
    "availability_snapshot",
    "candidates",
    "locked_lot",
    "lot_rules",
    "order_lot_rules",
    "plan",
    "rank",
    "release_order",
    "take",
]

FO_CHANGED = "fulfillment_order.changed"
FO_BACKORDERED = "fulfillment_order.backordered"
ALLOCATABLE_LOCATION_TYPES = ("pick_face", "reserve")
#: Statuses an order may be (re-)allocated or released in: before picking starts.
OPEN_STATUSES = ("received", "allocated", "backordered")
PICKING_STATUSES = ("picking", "packed")
CLOSED_STATUSES = ("shipped", "cancelled")


@dataclass(frozen=True, slots=True)
class Candidate:
    """Stock that could serve a line: one key and what is free on it."""

    location_id: int
    location_code: str
    location_type: str
    lot: str
    lpn: str
    expiry: str | None
    lot_age: int  # id of the lot's first receipt movement (smaller = older)
    key_age: int  # id of the first movement into this stock key
    free: int  # on hand minus already allocated and minus open tasks moving it away


def _sort_key(c: Candidate, fefo: bool) -> tuple[Any, ...]:
    face = 0 if c.location_type == "pick_face" else 1
    if fefo:
        tier: tuple[Any, ...] = (c.expiry is None, c.expiry or "")
    else:
        tier = (c.lot_age,)
    return (*tier, face, c.key_age, c.location_code, c.lpn)


def rank(cands: Sequence[Candidate], *, fefo: bool) -> list[Candidate]:
    """The candidates in the order they should be allocated (pure; see the module doc)."""
    return sorted((c for c in cands if c.free > 0), key=lambda c: _sort_key(c, fefo))


def take(ranked: Sequence[Candidate], need: int) -> list[tuple[Candidate, int]]:
    """Greedy: (candidate, qty) pairs covering up to `need` in rank order (pure)."""
    out: list[tuple[Candidate, int]] = []
    for c in ranked:
        if need <= 0:
            break
        qty = min(c.free, need)
        if qty > 0:
            out.append((c, qty))
            need -= qty
    return out


@dataclass(frozen=True, slots=True)
class LotRules:
    """A client's picking rules resolved for one order: which lots may serve it."""

    earliest_expiry: str  # ISO date: lots expiring before it are not allocated
    blocked: frozenset[str] = frozenset()
    single_lot: bool = False

    def allows(self, lot: str, expiry: str | None) -> bool:
        """Lots without an expiry date never run out of shelf life."""
        return lot not in self.blocked and (expiry is None or expiry >= self.earliest_expiry)


def lot_rules(source: Source, owner: str, promised_ship_date: str | None) -> LotRules:
    """The rules of `owner`'s orders shipping on `promised_ship_date` (None: today). A ship
    date already past counts as today. The house ('') only refuses lots expired today."""
    today = utcnow().date()
    if not owner:
        return LotRules(earliest_expiry=today.isoformat())
    rules = picking_rules(source, owner)
    ship = today
    if promised_ship_date:
        ship = max(today, date.fromisoformat(promised_ship_date[:10]))
    earliest = ship + timedelta(days=rules.min_shelf_life_days)
    return LotRules(
        earliest_expiry=earliest.isoformat(),
        blocked=frozenset(rules.blocked_lots),
        single_lot=rules.single_lot_per_line,
    )


def order_lot_rules(source: Source, order_id: int) -> LotRules:
    """`lot_rules` of fulfillment order `order_id` (its owner and promised ship date)."""
    row = fetch_rows(
        source,
        "SELECT owner, promised_ship_date FROM fulfillment_orders WHERE id = ?",
        [order_id],
    )[0]
    return lot_rules(source, row["owner"], row["promised_ship_date"])


def locked_lot(source: Source, rules: LotRules, order_line_id: int) -> str | None:
    """With `single_lot_per_line`, the lot an order line already holds (allocated or picked):
    the rest of the line must come from it. None when the line is free to pick its lot (no
    rule, nothing held yet, or several lots held from before the rule)."""
    if not rules.single_lot:
        return None
    held = {
        r["lot"]
        for r in fetch_rows(
            source,
            "SELECT lot FROM allocations WHERE order_line_id = ? "
            "UNION SELECT lot FROM pick_lines WHERE order_line_id = ? AND qty_picked > 0",
            [order_line_id, order_line_id],
        )
    }
    return held.pop() if len(held) == 1 else None


def plan(
    cands: Sequence[Candidate],
    need: int,
    *,
    fefo: bool,
    rules: LotRules | None = None,
    lot: str | None = None,
) -> list[tuple[Candidate, int]]:
    """(candidate, qty) pairs for `need` under `rules` (pure): only lots the rules allow (and
    only `lot` when given); with `single_lot` all of `need` from the first lot in rank order
    that has enough free, else nothing."""
    allowed = [
        c
        for c in cands
        if (rules is None or rules.allows(c.lot, c.expiry)) and (lot is None or c.lot == lot)
    ]
    ranked = rank(allowed, fefo=fefo)
    if rules is None or not rules.single_lot:
        return take(ranked, need)
    free: dict[str, int] = {}
    for c in ranked:
        free[c.lot] = free.get(c.lot, 0) + c.free
    for first in free:  # dicts keep insertion order: the lots in rank order
        if free[first] >= need:
            return take([c for c in ranked if c.lot == first], need)
    return []


_CANDIDATES = f"""
SELECT st.location_id, l.code AS location_code, l.type AS location_type, st.lot, st.lpn,
       lo.expiry,
       st.qty - COALESCE((SELECT SUM(a.qty) FROM allocations a
                          WHERE a.location_id = st.location_id AND a.item_id = st.item_id
                            AND a.lot = st.lot AND a.lpn = st.lpn), 0)
           - COALESCE((SELECT SUM(t.qty) FROM stock_tasks t
                       WHERE t.status = 'open' AND t.from_location_id = st.location_id
                         AND t.item_id = st.item_id AND t.lot = st.lot AND t.lpn = st.lpn
                         AND t.stock_status = 'available'), 0) AS free,
       COALESCE((SELECT MIN(m.id) FROM movements m
                 WHERE m.item_id = st.item_id AND m.lot = st.lot
                   AND m.type IN ('receipt', 'return')), 0) AS lot_age,
       COALESCE((SELECT MIN(m.id) FROM movements m
                 WHERE m.to_location_id = st.location_id AND m.item_id = st.item_id
                   AND m.lot = st.lot AND COALESCE(m.to_lpn, m.lpn) = st.lpn
                   AND m.to_status = 'available'), 0) AS key_age
FROM stock st
JOIN locations l ON l.id = st.location_id
LEFT JOIN lots lo ON lo.item_id = st.item_id AND lo.lot = st.lot
WHERE l.site_id = ? AND st.item_id = ? AND st.status = 'available' AND st.qty > 0
  AND l.active = 1 AND l.type IN {tuple(ALLOCATABLE_LOCATION_TYPES)!r}
  AND (lo.expiry IS NULL OR lo.expiry >= ?)
"""


def candidates(source: Source, sid: int, item_id: int) -> list[Candidate]:
    """Allocatable stock of one item at a site, with what is still free on each key."""
    today = utcnow().date().isoformat()
    rows = fetch_rows(source, _CANDIDATES, [sid, item_id, today])
    return [Candidate(**r) for r in rows]


def _order(w: Source, sid: int, number: str) -> dict[str, Any]:
    found = fetch_rows(
        w, "SELECT * FROM fulfillment_orders WHERE site_id = ? AND number = ?", [sid, number]
    )
    if not found:
        raise AislewayError(ErrorCode.FO_NOT_FOUND, details={"number": number})
    return found[0]


def refuse_unless_open(order: dict[str, Any]) -> None:
    """FO_CLOSED / FO_PICKING_STARTED unless the order is still before picking."""
    status = order["status"]
    details = {"number": order["number"], "status": status}
    if status in CLOSED_STATUSES:
        raise AislewayError(ErrorCode.FO_CLOSED, details=details)
    if status in PICKING_STATUSES:
        raise AislewayError(ErrorCode.FO_PICKING_STARTED, details=details)


def release_order(w: SUDatabase, order_id: int) -> int:
    """Drop every allocation of the order; returns the quantity released."""
    released = fetch_rows(
        w,
        "SELECT COALESCE(SUM(a.qty), 0) AS n FROM allocations a "
        "JOIN fo_lines fl ON fl.id = a.order_line_id WHERE fl.order_id = ?",
        [order_id],
    )[0]["n"]
    w.execute(
        "DELETE FROM allocations WHERE order_line_id IN "
        "(SELECT id FROM fo_lines WHERE order_id = ?)",
        [order_id],
    )
    return int(released)


def allocate_order(w: SUDatabase, site: str, number: str) -> dict[str, Any]:
    """Reserve stock for every open line of order `number` (inside the caller's write
    transaction). Lines already fully allocated keep their stock; short lines get what is
    free now, under the order's client's picking rules as they are now (allocations made
    before a rule changed stay). Sets line and order status, emits
    `fulfillment_order.changed` when anything changed and `fulfillment_order.backordered`
    when a line stays short.

    Returns {"outcome": "allocated" | "backordered" | "unchanged", "lines": [...]}."""
    sid = site_id(w, site)
    order = _order(w, sid, number)
    refuse_unless_open(order)
    rules = lot_rules(w, order["owner"], order["promised_ship_date"])
    lines = fetch_rows(
        w,
        "SELECT fl.id, fl.line_no, fl.item_id, fl.qty_ordered, fl.qty_short, fl.status, i.sku, "
        "i.expiry_tracked, COALESCE((SELECT SUM(a.qty) FROM allocations a "
        "WHERE a.order_line_id = fl.id), 0) AS qty_allocated "
        "FROM fo_lines fl JOIN items i ON i.id = fl.item_id "
        "WHERE fl.order_id = ? AND fl.status != 'cancelled' ORDER BY fl.line_no",
        [order["id"]],
    )
    now = iso()
    changed = False
    result: list[dict[str, Any]] = []
    for line in lines:
        allocated = int(line["qty_allocated"])
        need = int(line["qty_ordered"]) - allocated
        if need > 0:
            chosen = plan(
                candidates(w, sid, line["item_id"]),
                need,
                fefo=bool(line["expiry_tracked"]),
                rules=rules,
                lot=locked_lot(w, rules, line["id"]),
            )
            for cand, qty in chosen:
                w.execute(
                    "INSERT INTO allocations (order_line_id, location_id, item_id, lot, lpn, "
                    "qty, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [line["id"], cand.location_id, line["item_id"], cand.lot, cand.lpn, qty, now],
                )
                allocated += qty
                changed = True
        short = int(line["qty_ordered"]) - allocated
        status = "short" if short else "allocated"
        if (status, short) != (line["status"], line["qty_short"]):
            changed = True
            w.execute(
                "UPDATE fo_lines SET status = ?, qty_short = ? WHERE id = ?",
                [status, short, line["id"]],
            )
        result.append(
            {
                "line_no": line["line_no"],
                "sku": line["sku"],
                "qty_ordered": int(line["qty_ordered"]),
                "qty_allocated": allocated,
                "qty_short": short,
            }
        )
    shorts = [r for r in result if r["qty_short"]]
    status = "backordered" if shorts else "allocated"
    if status != order["status"]:
        changed = True
    if not changed:
        return {"outcome": "unchanged", "lines": result}
    w.execute(
        "UPDATE fulfillment_orders SET status = ?, updated_at = ? WHERE id = ?",
        [status, now, order["id"]],
    )
    emit(w, FO_CHANGED, {"site": site, "number": number, "status": status, "outcome": status})
    if shorts:
        emit(
            w,
            FO_BACKORDERED,
            {
                "site": site,
                "number": number,
                "lines": [
                    {"line_no": r["line_no"], "sku": r["sku"], "short": r["qty_short"]}
                    for r in shorts
                ],
            },
        )
    return {"outcome": status, "lines": result}


def availability(source: Source, site: str, sku: str) -> dict[str, Any] | None:
    """What of `sku` can still be promised at `site`: allocatable stock on hand, minus what
    is allocated; None when the SKU is unknown. `elsewhere` is available stock not (yet) in a
    pick face or reserve (dock, staging...); `blocked` is quarantine or damaged stock,
    expired lots and, for a client's SKU, lots its picking rules never let out (blocked lots,
    too little shelf life left today); allocations on such lots count in `allocated` but not
    against `available`."""
    items = fetch_rows(source, "SELECT id, owner FROM items WHERE sku = ?", [sku])
    if not items:
        return None
    sid = site_id(source, site)
    item_id = int(items[0]["id"])
    today = utcnow().date().isoformat()
    rules = lot_rules(source, items[0]["owner"], None) if items[0]["owner"] else None
    rows = fetch_rows(
        source,
        "SELECT st.status, l.type, l.active, st.lot, lo.expiry, st.qty FROM stock st "
        "JOIN locations l ON l.id = st.location_id "
        "LEFT JOIN lots lo ON lo.item_id = st.item_id AND lo.lot = st.lot "
        "WHERE l.site_id = ? AND st.item_id = ?",
        [sid, item_id],
    )
    on_hand = elsewhere = blocked = 0
    for r in rows:
        expired = r["expiry"] is not None and r["expiry"] < today
        refused = rules is not None and not rules.allows(r["lot"], r["expiry"])
        if r["status"] != "available" or expired or refused:
            blocked += r["qty"]
        elif r["type"] in ALLOCATABLE_LOCATION_TYPES and r["active"]:
            on_hand += r["qty"]
        else:
            elsewhere += r["qty"]
    allocs = fetch_rows(
        source,
        "SELECT a.lot, lo.expiry, SUM(a.qty) AS n FROM allocations a "
        "JOIN locations l ON l.id = a.location_id "
        "LEFT JOIN lots lo ON lo.item_id = a.item_id AND lo.lot = a.lot "
        "WHERE l.site_id = ? AND a.item_id = ? GROUP BY a.lot, lo.expiry",
        [sid, item_id],
    )
    allocated = sum(int(r["n"]) for r in allocs)
    counted = sum(
        int(r["n"]) for r in allocs if rules is None or rules.allows(r["lot"], r["expiry"])
    )
    return {
        "sku": sku,
        "on_hand": on_hand,
        "allocated": allocated,
        "available": max(on_hand - counted, 0),
        "elsewhere": elsewhere,
        "blocked": blocked,
    }


# A client's picking rules in SQL (LotRules.allows with no promised date): `c` is NULL for
# the house's items. Each use binds one parameter: today.
_CLIENT_JOIN = (
    "JOIN items it ON it.id = {t}.item_id "
    "LEFT JOIN clients c ON it.owner != '' AND c.code = it.owner"
)
_CLIENT_ALLOWS = (
    "(c.id IS NULL OR ((lo.expiry IS NULL OR lo.expiry >= date(?, '+' || "
    "COALESCE(json_extract(c.picking_json, '$.min_shelf_life_days'), 0) || ' days')) "
    "AND NOT EXISTS (SELECT 1 FROM json_each(c.picking_json, '$.blocked_lots') b "
    "WHERE b.value = {t}.lot)))"
)


def availability_snapshot(
    source: Source, site: str, skus: Sequence[str] | None = None
) -> tuple[dict[str, int], str | None]:
    """`available` of `availability` for many SKUs in one statement (a consistent read):
    every SKU with stock or allocations at the site, or just `skus` (known ones, 0 when none).
    Also returns the time of the newest event the read includes (the `as_of` of a
    reconciliation snapshot: every stock change emits an event in its transaction, so events
    stamped up to then are reflected, later ones are not); None when there is none yet.

    A client's SKU leaves out the lots its picking rules never let out today (blocked lots,
    too little shelf life left), on hand and allocated alike (see `availability`)."""
    sid = site_id(source, site)
    today = utcnow().date().isoformat()
    types = ",".join(f"'{t}'" for t in ALLOCATABLE_LOCATION_TYPES)
    params: list[Any] = [sid, today, today, sid, today]
    where = "oh.q IS NOT NULL OR al.q IS NOT NULL"
    if skus is not None:
        unique = sorted(set(skus))
        if not unique:
            return {}, None
        where = f"i.sku IN ({','.join('?' * len(unique))})"
        params += unique
    rows = fetch_rows(
        source,
        "WITH oh AS (SELECT st.item_id, SUM(st.qty) AS q FROM stock st "
        "  JOIN locations l ON l.id = st.location_id "
        "  LEFT JOIN lots lo ON lo.item_id = st.item_id AND lo.lot = st.lot "
        f"  {_CLIENT_JOIN.format(t='st')} "
        f"  WHERE l.site_id = ? AND st.status = 'available' AND l.type IN ({types}) "
        "  AND l.active = 1 AND (lo.expiry IS NULL OR lo.expiry >= ?) "
        f"  AND {_CLIENT_ALLOWS.format(t='st')} GROUP BY st.item_id), "
        "al AS (SELECT a.item_id, SUM(a.qty) AS q FROM allocations a "
        "  JOIN locations l ON l.id = a.location_id "
        "  LEFT JOIN lots lo ON lo.item_id = a.item_id AND lo.lot = a.lot "
        f"  {_CLIENT_JOIN.format(t='a')} "
        f"  WHERE l.site_id = ? AND {_CLIENT_ALLOWS.format(t='a')} GROUP BY a.item_id) "
        "SELECT i.sku, MAX(COALESCE(oh.q, 0) - COALESCE(al.q, 0), 0) AS available, "
        "  (SELECT created_at FROM outbox ORDER BY id DESC LIMIT 1) AS as_of "
        "FROM items i LEFT JOIN oh ON oh.item_id = i.id LEFT JOIN al ON al.item_id = i.id "
        f"WHERE {where} UNION ALL SELECT NULL, NULL, "
        "  (SELECT created_at FROM outbox ORDER BY id DESC LIMIT 1)",
        params,
    )
    # Every row carries the watermark; the extra (sku NULL) row is there when no SKU matched.
    as_of = rows[0]["as_of"]
    return {r["sku"]: int(r["available"]) for r in rows if r["sku"] is not None}, as_of
