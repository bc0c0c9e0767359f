"""Available-to-promise per site and SKU, and the reservations orders hold against it.

ATP of a SKU at a site = what the site reports as available (`set_site_stock`, fed by its
stock events; `apply_snapshot`, the periodic reconciliation) minus what OMS orders have
reserved there and not yet released to the site. Only active sites promise.

Reserving is atomic: `reserve_order` runs inside the caller's `db.write()` transaction
(`BEGIN IMMEDIATE` on the single write connection), reads ATP through that same connection
and writes the reservations before anyone else can read ATP again. Beneath it, triggers on
`reservations`/`site_stock` (migration m012) make a held reservation without enough ATP
impossible whoever writes, so concurrent orders for the last units never oversell.

Which site(s) a line is reserved at is decided by a `Chooser` (sourcing plugs a better one
in through `OmsServices.choose_sites`); the default takes the site with the most ATP first.
What no site can cover waits in `backorders`, oldest order first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.oms.sites import site_id
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = [
    "Allocations",
    "Chooser",
    "ReservationRequest",
    "ReserveResult",
    "apply_snapshot",
    "atp_by_site",
    "atp_view",
    "cancel_reservations",
    "check_reservations",
    "mark_released",
    "most_atp_first",
    "order_reservations",
    "reserve_order",
    "set_site_stock",
]

#: `{sku: [(site_code, qty), ...]}`: where to reserve how much of each SKU.
Allocations = dict[str, list[tuple[str, int]]]


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    """What a chooser decides on: one order's unreserved needs and the ATP that could cover
    them (active sites with ATP > 0 only)."""

    order_number: str
    channel: str
    ship_to: dict[str, Any]
    requested_service: str
    #: `{sku: qty}` still to reserve, summed over the order's lines.
    needs: dict[str, int]
    #: `{sku: {site_code: atp}}`.
    atp: dict[str, dict[str, int]]


#: Given a request, return allocations: per SKU, (site, qty) pairs with qty > 0, at sites in
#: `request.atp[sku]`, at most that ATP per site and at most `needs[sku]` per SKU. What is
#: not allocated is backordered. Runs inside the write transaction: keep it quick, no I/O.
Chooser = Callable[[ReservationRequest], Allocations]


def most_atp_first(request: ReservationRequest) -> Allocations:
    """The default chooser: per SKU, the site with the most ATP first (ties by site code),
    then the next, until the need is covered or ATP runs out (a split shipment)."""
    out: Allocations = {}
    for sku, need in request.needs.items():
        chunks: list[tuple[str, int]] = []
        for site, atp in sorted(request.atp.get(sku, {}).items(), key=lambda kv: (-kv[1], kv[0])):
            if need <= 0:
                break
            take = min(need, atp)
            chunks.append((site, take))
            need -= take
        if chunks:
            out[sku] = chunks
    return out


@dataclass
class ReserveResult:
    """What one `reserve_order` call did."""

    #: `{"line_no", "sku", "site", "qty"}` per reservation made now.
    reserved: list[dict[str, Any]] = field(default_factory=list)
    #: `{"line_no", "sku", "qty"}` per line left waiting (its whole open remainder).
    backordered: list[dict[str, Any]] = field(default_factory=list)


# -- stock as the sites report it ---------------------------------------------------------
def _as_of(value: datetime | str) -> str:
    """A UTC ISO timestamp (comparable as text); refuses a time without a zone."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        raise ValueError("as_of needs a time zone")
    return iso(when.astimezone(UTC))


def set_site_stock(
    w: SUDatabase, site: str, sku: str, available: int, as_of: datetime | str
) -> bool:
    """Record that `site` can still promise `available` of `sku` as of `as_of` (its stock
    event's time). An older report than the one stored is ignored (events can arrive out of
    order): returns False then, True when recorded. UNKNOWN_SITE for an unknown site."""
    if available < 0:
        raise AislewayError(ErrorCode.QUANTITY_INVALID, details={"sku": sku, "qty": available})
    sid = site_id(w, site)
    stamp = _as_of(as_of)
    cur = w.execute(
        "INSERT INTO site_stock (site_id, sku, available, as_of, updated_at) "
        "VALUES (?,?,?,?,?) "
        "ON CONFLICT (site_id, sku) DO UPDATE SET available = excluded.available, "
        "as_of = excluded.as_of, updated_at = excluded.updated_at "
        "WHERE excluded.as_of >= site_stock.as_of",
        [sid, sku, available, stamp, iso()],
    )
    return cur.rowcount == 1


def apply_snapshot(
    w: SUDatabase,
    site: str,
    levels: Mapping[str, int],
    as_of: datetime | str,
    *,
    full: bool = False,
) -> dict[str, int]:
    """A site's reconciliation snapshot: set every SKU listed (unless a newer event already
    set it). `full` means the list is everything the site holds: SKUs not listed drop to 0.
    Returns counts `{"recorded", "stale", "zeroed"}`."""
    counts = {"recorded": 0, "stale": 0, "zeroed": 0}
    for sku, available in levels.items():
        counts["recorded" if set_site_stock(w, site, sku, available, as_of) else "stale"] += 1
    if full:
        sid = site_id(w, site)
        stamp = _as_of(as_of)
        listed = set(levels)
        for row in fetch_rows(
            w,
            "SELECT sku FROM site_stock WHERE site_id = ? AND available > 0 AND as_of <= ?",
            [sid, stamp],
        ):
            if row["sku"] not in listed:
                set_site_stock(w, site, row["sku"], 0, stamp)
                counts["zeroed"] += 1
    return counts


def atp_by_site(w: Source, skus: Sequence[str]) -> dict[str, dict[str, int]]:
    """`{sku: {site_code: atp}}` for the active sites with ATP > 0 of these SKUs."""
    out: dict[str, dict[str, int]] = {}
    unique = sorted(set(skus))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in fetch_rows(
            w,
            "SELECT st.sku, s.code, st.available - st.reserved AS atp FROM site_stock st "
            "JOIN sites s ON s.id = st.site_id "
            f"WHERE s.active = 1 AND st.available > st.reserved AND st.sku IN ({marks})",
            chunk,
        ):
            out.setdefault(r["sku"], {})[r["code"]] = int(r["atp"])
    return out


def atp_view(src: Source, sku: str) -> dict[str, Any]:
    """ATP of one SKU per site and in total (what `GET /inventory/atp` returns). `oversold`
    is what a site holds reserved beyond what it now reports available."""
    rows = fetch_rows(
        src,
        "SELECT s.code, s.active, st.available, st.reserved, st.as_of FROM site_stock st "
        "JOIN sites s ON s.id = st.site_id WHERE st.sku = ? ORDER BY s.code",
        [sku],
    )
    sites = []
    for r in rows:
        atp = max(r["available"] - r["reserved"], 0) if r["active"] else 0
        sites.append(
            {
                "site": r["code"],
                "active": bool(r["active"]),
                "available": r["available"],
                "reserved": r["reserved"],
                "atp": atp,
                "oversold": max(r["reserved"] - r["available"], 0),
                "as_of": r["as_of"],
            }
        )
    backordered = fetch_rows(
        src, "SELECT COALESCE(SUM(qty), 0) AS qty FROM backorders WHERE sku = ?", [sku]
    )[0]["qty"]
    return {
        "sku": sku,
        "atp": sum(s["atp"] for s in sites),
        "backordered": int(backordered),
        "sites": sites,
    }


# -- reserving --------------------------------------------------------------------------------
def _line_needs(w: SUDatabase, order_id: int) -> list[dict[str, Any]]:
    """Open lines with what each still needs (qty minus held and released reservations)."""
    return fetch_rows(
        w,
        "SELECT l.id, l.line_no, l.sku, l.qty - COALESCE(("
        "  SELECT SUM(r.qty) FROM reservations r"
        "  WHERE r.line_id = l.id AND r.status IN ('held', 'released')), 0) AS need "
        "FROM order_lines l WHERE l.order_id = ? AND l.cancelled = 0 ORDER BY l.line_no",
        [order_id],
    )


def _checked(allocations: Allocations, request: ReservationRequest) -> Allocations:
    """Refuse (ValueError: a chooser bug, not a user's mistake) allocations that break the
    Chooser contract, before any row is written."""
    for sku, chunks in allocations.items():
        if sku not in request.needs:
            raise ValueError(f"chooser allocated {sku!r}, which the order does not need")
        per_site: dict[str, int] = {}
        for site, qty in chunks:
            if qty <= 0 or site not in request.atp.get(sku, {}):
                raise ValueError(f"chooser allocated {qty} of {sku!r} at {site!r}")
            per_site[site] = per_site.get(site, 0) + qty
            if per_site[site] > request.atp[sku][site]:
                raise ValueError(f"chooser allocated more {sku!r} at {site!r} than its ATP")
        if sum(per_site.values()) > request.needs[sku]:
            raise ValueError(f"chooser allocated more {sku!r} than the order needs")
    return allocations


def reserve_order(w: SUDatabase, order_id: int, chooser: Chooser | None = None) -> ReserveResult:
    """Reserve what the order's open lines still need, at the sites `chooser` picks, and
    set each line's backorder to what is left. Call inside the write transaction; calling
    again later (stock arrived) reserves more of the backordered remainder. It does not
    change the order's status: `orders.reserve` does that and records the events."""
    order = fetch_rows(
        w,
        "SELECT o.number, o.ship_to_json, o.requested_service, o.received_at, c.code AS channel "
        "FROM orders o JOIN channels c ON c.id = o.channel_id WHERE o.id = ?",
        [order_id],
    )[0]
    lines = [ln for ln in _line_needs(w, order_id) if ln["need"] > 0]
    needs: dict[str, int] = {}
    for ln in lines:
        needs[ln["sku"]] = needs.get(ln["sku"], 0) + ln["need"]
    request = ReservationRequest(
        order_number=order["number"],
        channel=order["channel"],
        ship_to=json.loads(order["ship_to_json"]),
        requested_service=order["requested_service"],
        needs=needs,
        atp=atp_by_site(w, list(needs)),
    )
    allocations = _checked((chooser or most_atp_first)(request), request) if needs else {}
    site_ids = {code: site_id(w, code) for chunks in allocations.values() for code, _ in chunks}
    result = ReserveResult()
    now = iso()
    pending = {sku: list(chunks) for sku, chunks in allocations.items()}
    for ln in lines:
        need = ln["need"]
        chunks = pending.get(ln["sku"], [])
        while need > 0 and chunks:
            site, qty = chunks[0]
            take = min(qty, need)
            # The trigger reservations_need_atp refuses this insert if ATP is short.
            w.execute(
                "INSERT INTO reservations (order_id, line_id, site_id, sku, qty, created_at) "
                "VALUES (?,?,?,?,?,?)",
                [order_id, ln["id"], site_ids[site], ln["sku"], take, now],
            )
            result.reserved.append(
                {"line_no": ln["line_no"], "sku": ln["sku"], "site": site, "qty": take}
            )
            need -= take
            if take == qty:
                chunks.pop(0)
            else:
                chunks[0] = (site, qty - take)
        if need > 0:
            result.backordered.append({"line_no": ln["line_no"], "sku": ln["sku"], "qty": need})
    _sync_backorders(w, order_id, order["received_at"])
    return result


def _sync_backorders(w: SUDatabase, order_id: int, received_at: str) -> None:
    """One backorder row per open line with an unreserved remainder; none for the rest."""
    open_need = {ln["id"]: ln for ln in _line_needs(w, order_id) if ln["need"] > 0}
    keep = ",".join("?" * len(open_need))
    # `NOT IN ()` is not SQL, and `NOT IN (NULL)` matches nothing: say "all" plainly.
    w.execute(
        "DELETE FROM backorders WHERE order_id = ?"
        + (f" AND line_id NOT IN ({keep})" if open_need else ""),
        [order_id, *open_need],
    )
    for line_id, ln in open_need.items():
        w.execute(
            "INSERT INTO backorders (line_id, order_id, sku, qty, created_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (line_id) DO UPDATE SET sku = excluded.sku, qty = excluded.qty",
            [line_id, order_id, ln["sku"], ln["need"], received_at],
        )


def cancel_reservations(w: SUDatabase, order_id: int, *, drop_backorders: bool = True) -> int:
    """Give back every held reservation of the order (its ATP returns at once); returns the
    units given back. Released ones stay: the site holds that stock now."""
    held = fetch_rows(
        w,
        "SELECT COALESCE(SUM(qty), 0) AS qty FROM reservations "
        "WHERE order_id = ? AND status = 'held'",
        [order_id],
    )[0]["qty"]
    w.execute(
        "UPDATE reservations SET status = 'cancelled', cancelled_at = ? "
        "WHERE order_id = ? AND status = 'held'",
        [iso(), order_id],
    )
    if drop_backorders:
        w.execute("DELETE FROM backorders WHERE order_id = ?", [order_id])
    return int(held)


def mark_released(w: SUDatabase, order_id: int, site: str) -> list[dict[str, Any]]:
    """The order's held reservations at `site` have been handed to the site (its fulfillment
    order was accepted): they stop counting against the OMS's ATP, since the site's own
    allocation now holds the stock. Returns the reservations released."""
    sid = site_id(w, site)
    rows = fetch_rows(
        w,
        "SELECT r.id, l.line_no, r.sku, r.qty FROM reservations r "
        "JOIN order_lines l ON l.id = r.line_id "
        "WHERE r.order_id = ? AND r.site_id = ? AND r.status = 'held' ORDER BY l.line_no, r.id",
        [order_id, sid],
    )
    w.execute(
        "UPDATE reservations SET status = 'released', released_at = ? "
        "WHERE order_id = ? AND site_id = ? AND status = 'held'",
        [iso(), order_id, sid],
    )
    return [{"line_no": r["line_no"], "sku": r["sku"], "site": site, "qty": r["qty"]} for r in rows]


def order_reservations(src: Source, order_id: int) -> list[dict[str, Any]]:
    """Held and released reservations of an order, per line and site (summed)."""
    return fetch_rows(
        src,
        "SELECT l.line_no, r.sku, s.code AS site, r.status, SUM(r.qty) AS qty "
        "FROM reservations r JOIN order_lines l ON l.id = r.line_id "
        "JOIN sites s ON s.id = r.site_id "
        "WHERE r.order_id = ? AND r.status != 'cancelled' "
        "GROUP BY l.line_no, r.sku, s.code, r.status ORDER BY l.line_no, s.code, r.status",
        [order_id],
    )


def check_reservations(src: Source) -> list[str]:
    """Problems with the reservation books (none expected): a site's `reserved` differing
    from the sum of its held reservations, or a line reserved beyond its quantity."""
    problems = [
        f"{r['code']} {r['sku']}: reserved {r['reserved']} but held reservations sum to {r['held']}"
        for r in fetch_rows(
            src,
            "SELECT s.code, st.sku, st.reserved, COALESCE(("
            "  SELECT SUM(r.qty) FROM reservations r WHERE r.site_id = st.site_id"
            "  AND r.sku = st.sku AND r.status = 'held'), 0) AS held "
            "FROM site_stock st JOIN sites s ON s.id = st.site_id",
        )
        if r["reserved"] != r["held"]
    ]
    problems += [
        f"order line {r['id']}: {r['reserved']} reserved of {r['qty']}"
        for r in fetch_rows(
            src,
            "SELECT l.id, l.qty, SUM(r.qty) AS reserved FROM order_lines l "
            "JOIN reservations r ON r.line_id = l.id AND r.status IN ('held', 'released') "
            "GROUP BY l.id HAVING SUM(r.qty) > l.qty",
        )
    ]
    return problems
