"""Billing data per 3PL client and period: storage and handling per site day, priced with the
client's rates (docs/billing.md). Reads only.

Days are site days (`site_timezone`), both ends of the period included, at most 366 days and
never after today. Every figure falls on the site day its event happened:

- storage is measured at the **end of each day** (local midnight; for today: now), from the
  ledger: the positions then are today's stock minus every movement made since, replayed
  backwards one day at a time (one pass over the period's movements, however long it is).
  Stock counts wherever it is stored — every location type except the outbound flow
  (`staging`, `packing`, `shipping_dock`), whatever its status;
  `bin_days` = bins holding any of the client's stock; `pallet_days` = distinct LPNs holding
  it, plus one pallet per `reserve` bin holding stock without an LPN;
- receipts = POs (or ASNs) with a receiving session closed that day that posted the client's
  items; units received = the client's units on receipt lines posted that day;
- lines picked = pick lines of the client's items confirmed that day (something picked);
- orders packed = the client's orders whose packing finished that day; orders and units
  shipped = the client's shipments confirmed that day.

Amounts = quantity x the client's rate (`protocols.clients.BillingRates`), rounded half up
to cents; the period's amounts are the period's quantities x the rates (so they may differ by a
cent from the sum of the rounded daily amounts).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from edge_server.wms.clients import get_client
from edge_server.wms.purchase_orders import Source, fetch_rows, site_id
from protocols.clients import BillingRates
from protocols.errors import ErrorCode

__all__ = [
    "CSV_COLUMNS",
    "EXPLAIN",
    "MAX_DAYS",
    "NOT_STORAGE",
    "BillingPeriod",
    "billing_report",
    "csv_rows",
    "period",
]

MAX_DAYS = 366
#: Location types that are the outbound flow, not storage (picked stock on its way out).
NOT_STORAGE = frozenset({"staging", "packing", "shipping_dock"})

#: Quantities per day, in CSV order.
QUANTITIES = (
    "bin_days",
    "pallet_days",
    "receipts",
    "units_received",
    "lines_picked",
    "units_picked",
    "orders_packed",
    "orders_shipped",
    "units_shipped",
)
#: Amounts, each a quantity x a rate (storage: the client's storage basis x `storage`).
AMOUNTS = ("storage_amount", "receipt_amount", "line_picked_amount", "order_packed_amount")
CSV_COLUMNS = ("day", *QUANTITIES, *AMOUNTS, "total_amount", "currency")

EXPLAIN: dict[str, str] = {
    "bin_days": "Bins (of any type but staging, packing and shipping dock) holding any of the "
    "client's stock at the end of the site day (for today: now).",
    "pallet_days": "Distinct LPNs holding the client's stock at the end of the day, plus one "
    "pallet per reserve bin holding its stock without an LPN.",
    "receipts": "POs (or ASNs) with a receiving session closed that day that received the "
    "client's items.",
    "units_received": "The client's units posted on receipt lines that day.",
    "lines_picked": "Pick lines of the client's items confirmed that day (something picked).",
    "units_picked": "Units picked on those lines.",
    "orders_packed": "The client's orders whose packing finished that day.",
    "orders_shipped": "The client's orders whose shipment was confirmed that day.",
    "units_shipped": "Units in those shipments.",
    "storage_amount": "bin_days or pallet_days (the client's storage_basis) x the storage rate.",
    "receipt_amount": "receipts x the receipt rate.",
    "line_picked_amount": "lines_picked x the line_picked rate.",
    "order_packed_amount": "orders_packed x the order_packed rate.",
    "total_amount": "The sum of the amounts.",
}

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """Site days `first`..`last` (both included) in time zone `tz`."""

    first: date
    last: date
    tz: ZoneInfo

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def start(self, day: date) -> datetime:
        """Local midnight opening `day`, in UTC."""
        return datetime.combine(day, time(), self.tz).astimezone(UTC)

    def end(self, day: date) -> datetime:
        return self.start(day + timedelta(days=1))

    def day_of(self, stamp: str) -> date:
        return parse_iso(stamp).astimezone(self.tz).date()


def period(
    settings: Settings, first: date, last: date, *, now: datetime | None = None
) -> BillingPeriod:
    """The billing period `first`..`last`; REPORT_PERIOD_INVALID when `last` is before `first`,
    after today (site time) or the period is longer than 366 days."""
    tz = ZoneInfo(settings.site_timezone)
    today = (now or utcnow()).astimezone(tz).date()
    if last < first or last > today or (last - first).days + 1 > MAX_DAYS:
        raise AislewayError(
            ErrorCode.REPORT_PERIOD_INVALID,
            text="That billing period cannot be used: `to` must not be before `from` nor "
            f"after today ({today.isoformat()}, site time), {MAX_DAYS} days at most.",
            details={
                "from": first.isoformat(),
                "to": last.isoformat(),
                "today": today.isoformat(),
                "max_days": MAX_DAYS,
            },
        )
    return BillingPeriod(first, last, tz)


# -- storage: positions at each day's end, replayed backwards from today's stock ----------------
class _Occupancy:
    """The client's stored quantities by (location, LPN), keeping bin and pallet counts as
    they change (so a day's figures cost nothing to read)."""

    def __init__(self, reserve: set[int]) -> None:
        self.reserve = reserve
        self.qty: Counter[tuple[int, str]] = Counter()
        self.keys_in_bin: Counter[int] = Counter()  # positive (location, lpn) keys per bin
        self.bins_of_lpn: Counter[str] = Counter()  # bins holding each LPN
        self.bins = 0
        self.lpns = 0
        self.loose_reserve = 0  # reserve bins holding stock without an LPN

    def add(self, location: int, lpn: str, qty: int) -> None:
        key = (location, lpn)
        before = self.qty[key] > 0
        self.qty[key] += qty
        after = self.qty[key] > 0
        if before == after:
            return
        step = 1 if after else -1
        self.keys_in_bin[location] += step
        if self.keys_in_bin[location] == (1 if after else 0):
            self.bins += step
        if lpn:
            self.bins_of_lpn[lpn] += step
            if self.bins_of_lpn[lpn] == (1 if after else 0):
                self.lpns += step
        elif location in self.reserve:
            self.loose_reserve += step

    @property
    def pallets(self) -> int:
        return self.lpns + self.loose_reserve


def _storage(
    source: SUDatabase, sid: int, owner: str, when: BillingPeriod
) -> dict[date, tuple[int, int]]:
    """(bin_days, pallet_days) per day of the period."""
    kinds = {
        int(r["id"]): str(r["type"])
        for r in fetch_rows(source, "SELECT id, type FROM locations WHERE site_id = ?", [sid])
    }
    stored = {loc for loc, kind in kinds.items() if kind not in NOT_STORAGE}
    occ = _Occupancy({loc for loc, kind in kinds.items() if kind == "reserve"})
    for r in source.execute(
        "SELECT s.location_id, s.lpn, SUM(s.qty) FROM stock s JOIN items i ON i.id = s.item_id "
        "WHERE i.owner = ? GROUP BY s.location_id, s.lpn",
        [owner],
    ):
        if r[0] in stored:
            occ.add(int(r[0]), str(r[1]), int(r[2]))
    # Every movement of the client's items since the period began, newest first; undoing one
    # takes its quantity back out of its target and returns it to its source.
    undo = source.execute(
        "SELECT m.ts, m.from_location_id, m.lpn, m.to_location_id, COALESCE(m.to_lpn, m.lpn), "
        "m.qty FROM movements m JOIN items i ON i.id = m.item_id "
        "WHERE m.ts >= ? AND i.owner = ? ORDER BY m.ts DESC, m.id DESC",
        [iso(when.start(when.first)), owner],
    )
    pending = undo.fetchone()
    out: dict[date, tuple[int, int]] = {}
    for day in reversed(when.days):
        end = iso(when.end(day))
        while pending is not None and pending[0] >= end:
            _, src, lpn, dst, dst_lpn, qty = pending
            if dst is not None and dst in stored:
                occ.add(int(dst), str(dst_lpn), -int(qty))
            if src is not None and src in stored:
                occ.add(int(src), str(lpn), int(qty))
            pending = undo.fetchone()
        out[day] = (occ.bins, occ.pallets)
    return out


# -- handling ---------------------------------------------------------------------------------
def _handling(
    source: SUDatabase, sid: int, owner: str, when: BillingPeriod
) -> dict[date, Counter[str]]:
    lo, hi = iso(when.start(when.first)), iso(when.end(when.last))
    days: dict[date, Counter[str]] = {day: Counter() for day in when.days}

    def tally(sql: str, params: list[Any], *figures: str) -> None:
        for row in source.execute(sql, params):
            counts = days[when.day_of(row[0])]
            for name, value in zip(figures, row[1:], strict=True):
                counts[name] += int(value or 0)

    receipts: dict[date, set[tuple[int, int | None]]] = {}
    for closed_at, po_id, asn_id in source.execute(
        "SELECT rs.closed_at, rs.po_id, rs.asn_id FROM receiving_sessions rs "
        "WHERE rs.site_id = ? AND rs.status = 'closed' AND rs.closed_at >= ? "
        "AND rs.closed_at < ? AND EXISTS (SELECT 1 FROM receipt_lines rl "
        "JOIN items i ON i.id = rl.item_id WHERE rl.session_id = rs.id AND i.owner = ?)",
        [sid, lo, hi, owner],
    ):
        receipts.setdefault(when.day_of(closed_at), set()).add((po_id, asn_id))
    for day, docs in receipts.items():
        days[day]["receipts"] = len(docs)
    tally(
        "SELECT rl.received_at, rl.qty FROM receipt_lines rl "
        "JOIN receiving_sessions rs ON rs.id = rl.session_id JOIN items i ON i.id = rl.item_id "
        "WHERE rs.site_id = ? AND i.owner = ? AND rl.received_at >= ? AND rl.received_at < ?",
        [sid, owner, lo, hi],
        "units_received",
    )
    tally(
        "SELECT pl.picked_at, 1, pl.qty_picked FROM pick_lines pl "
        "JOIN pick_tasks t ON t.id = pl.task_id JOIN items i ON i.id = pl.item_id "
        "WHERE t.site_id = ? AND i.owner = ? AND pl.qty_picked > 0 "
        "AND pl.picked_at >= ? AND pl.picked_at < ?",
        [sid, owner, lo, hi],
        "lines_picked",
        "units_picked",
    )
    tally(
        "SELECT MAX(ps.finished_at), 1 FROM pack_sessions ps "
        "JOIN fulfillment_orders o ON o.id = ps.order_id "
        "WHERE ps.site_id = ? AND o.owner = ? AND ps.status = 'done' "
        "AND ps.finished_at >= ? AND ps.finished_at < ? GROUP BY ps.order_id",
        [sid, owner, lo, hi],
        "orders_packed",
    )
    tally(
        "SELECT s.shipped_at, 1, s.units FROM shipments s "
        "JOIN fulfillment_orders o ON o.id = s.order_id "
        "WHERE s.site_id = ? AND o.owner = ? AND s.shipped_at >= ? AND s.shipped_at < ?",
        [sid, owner, lo, hi],
        "orders_shipped",
        "units_shipped",
    )
    return days


# -- amounts and the report ---------------------------------------------------------------------
def _cents(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _priced(figures: dict[str, Any], rates: BillingRates) -> dict[str, Any]:
    storage = figures[rates.storage_basis]
    amounts = {
        "storage_amount": storage * rates.storage,
        "receipt_amount": figures["receipts"] * rates.receipt,
        "line_picked_amount": figures["lines_picked"] * rates.line_picked,
        "order_packed_amount": figures["orders_packed"] * rates.order_packed,
    }
    rounded = {k: Decimal(_cents(v)) for k, v in amounts.items()}
    return {
        **figures,
        **{k: str(v) for k, v in rounded.items()},
        "total_amount": _cents(sum(rounded.values(), Decimal(0))),
        "currency": rates.currency,
    }


@contextmanager
def _snapshot(source: Source) -> Iterator[SUDatabase]:
    """One read snapshot for the whole report (stock and movements must agree)."""
    if not isinstance(source, Database):
        yield source
        return
    conn = source.read
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def billing_report(
    source: Source,
    settings: Settings,
    code: str,
    when: BillingPeriod,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Client `code`'s storage and handling per site day and for the period, with amounts.
    CLIENT_NOT_FOUND for an unknown client."""
    client = get_client(source, code)
    rates = BillingRates.model_validate(client["billing"])
    today = (now or utcnow()).astimezone(when.tz).date()
    with _snapshot(source) as conn:
        sid = site_id(conn, settings.site)
        storage = _storage(conn, sid, code, when)
        handling = _handling(conn, sid, code, when)
    by_day = []
    total: Counter[str] = Counter()
    for day in when.days:
        bins, pallets = storage[day]
        figures: dict[str, Any] = {"bin_days": bins, "pallet_days": pallets}
        figures |= {name: handling[day][name] for name in QUANTITIES[2:]}
        total.update(figures)
        by_day.append({"day": day.isoformat(), "final": day < today, **_priced(figures, rates)})
    return {
        "client": code,
        "name": client["name"],
        "site": settings.site,
        "timezone": settings.site_timezone,
        "from": when.first.isoformat(),
        "to": when.last.isoformat(),
        "days": len(by_day),
        "rates": json.loads(rates.model_dump_json()),
        "total": _priced({name: total[name] for name in QUANTITIES}, rates),
        "by_day": by_day,
        "explain": EXPLAIN,
    }


def csv_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The report's days and a last `total` row under `CSV_COLUMNS`."""
    rows: list[list[Any]] = [list(CSV_COLUMNS)]
    for figures in [*report["by_day"], {"day": "total", **report["total"]}]:
        rows.append([figures[c] for c in CSV_COLUMNS])
    return rows
