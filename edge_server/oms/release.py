"""Releasing an order to its sites: each site's share becomes a fulfillment order (FO) on that
site's edge server, sent until the site has accepted it — never lost, never doubled.

1. `plan_release(w, number)` (one write transaction): per site where the order holds
   reservations, the FO to send — a new one (`{order}-{site}`), or a new version of the open
   one (before picking) when more was reserved there since. The order counts as `released`
   from now on (it can no longer be cancelled or replaced in the OMS: it may already be at
   the site). Nothing is sent yet.
2. `send_fulfillment(oms, number)` (no transaction during HTTP): `PUT /fulfillment-orders/
   {number}` with `Idempotency-Key: oms-{number}-v{version}`, then `POST …/allocate` (its own
   key), then the site's ATP of the FO's SKUs (`GET /inventory/snapshot?sku=`). Then, in one
   transaction, `mark_released` (the reservations stop counting against OMS ATP) together
   with the site's lower stock, so the units are never counted twice nor freed early. A site
   that does not answer leaves the FO `pending`, retried by `SiteLoop` with a growing wait;
   a refusal (4xx) makes it `refused` (an admin fixes the cause and releases again).

The site's PUT is idempotent by FO number and key, so a retry after a lost answer changes
nothing at the site; a version the site has already accepted is never sent again.

`SiteLoop` (a `BackgroundLoop`) sends due FOs, releases paid, fully reserved orders by
itself (`AISLEWAY_OMS_AUTO_RELEASE`) and pulls each site's reconciliation snapshot every
`AISLEWAY_OMS_SITE_RECONCILE_SECONDS`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from sqlite_utils import Database as SUDatabase

from edge_server.background import BackgroundLoop
from edge_server.errors import AislewayError
from edge_server.oms import orders
from edge_server.oms.reservations import mark_released, set_site_stock
from edge_server.oms.services import OmsServices
from edge_server.oms.site_client import SiteClient, SiteRefused, SiteUnreachable
from edge_server.oms.site_events import (
    _order_header,
    _stock_changed,
    journey_add,
    prune_seen,
    reconcile_site,
    recover_missed,
    refresh_order_status,
)
from edge_server.oms.sites import get_site
from edge_server.timeutil import iso, parse_iso, utcnow
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.outbound import DOC_NUMBER_PATTERN
from protocols.status import OmsStatus, rank

__all__ = [
    "CarrierServiceResolver",
    "SiteLoop",
    "carrier_service_resolvers",
    "fulfillments_view",
    "plan_release",
    "releasable_orders",
    "release_order",
    "send_due",
    "send_fulfillment",
]

log = logging.getLogger(__name__)

#: `resolver(w, order_id, site_code)` → the site's carrier service code for the order's FO, or
#: None to let the next one decide. Sourcing registers one (its decision names the service);
#: without any, the order's `requested_service` is sent as it is.
CarrierServiceResolver = Callable[[SUDatabase, int, str], str | None]
carrier_service_resolvers: list[CarrierServiceResolver] = []

_FROZEN = rank(OmsStatus.PICKING)  # from picking on, the site no longer takes a replacement


def _lines(w: Source, sql_where: str, params: list[Any]) -> dict[int, dict[str, Any]]:
    rows = fetch_rows(
        w,
        "SELECT l.line_no, r.sku, SUM(r.qty) AS qty FROM reservations r "
        "JOIN order_lines l ON l.id = r.line_id "
        f"WHERE {sql_where} GROUP BY l.line_no, r.sku ORDER BY l.line_no",
        params,
    )
    return {r["line_no"]: {"line_no": r["line_no"], "sku": r["sku"], "qty": r["qty"]} for r in rows}


def _desired(w: SUDatabase, fo: dict[str, Any]) -> list[dict[str, Any]]:
    """What FO `fo` must ask of its site: every held or released reservation of the order at
    the site, minus what the order's other live FOs there already ask."""
    total = _lines(
        w,
        "r.order_id = ? AND r.site_id = ? AND r.status IN ('held', 'released')",
        [fo["order_id"], fo["site_id"]],
    )
    for other in fetch_rows(
        w,
        "SELECT lines_json FROM fulfillments WHERE order_id = ? AND site_id = ? AND id != ? "
        "AND status != 'cancelled'",
        [fo["order_id"], fo["site_id"], fo["id"]],
    ):
        for ln in json.loads(other["lines_json"]):
            if ln["line_no"] in total:
                total[ln["line_no"]]["qty"] -= ln["qty"]
    return [ln for _, ln in sorted(total.items()) if ln["qty"] > 0]


def _fo_number(w: SUDatabase, order: dict[str, Any], site: str, seq: int) -> str:
    """`{order}-{site}` (`-{seq}` after the first) when that is a valid, unused edge order
    number; else `OMS{order id}-{site}…` (the edge's numbers are upper case, at most 30)."""
    suffix = f"-{site}" + (f"-{seq}" if seq > 1 else "")
    for candidate in (order["number"].upper() + suffix, f"OMS{order['id']}{suffix}"):
        if re.fullmatch(DOC_NUMBER_PATTERN, candidate) and not fetch_rows(
            w, "SELECT 1 FROM fulfillments WHERE number = ?", [candidate]
        ):
            return candidate
    raise ValueError(f"no fulfillment order number for {order['number']} at {site}")


def _carrier_service(w: SUDatabase, order: dict[str, Any], site: str) -> str:
    for resolve in carrier_service_resolvers:
        found = resolve(w, int(order["id"]), site)
        if found:
            return found
    return str(order["requested_service"])


def plan_release(w: SUDatabase, number: str) -> list[str]:
    """Step 1 (see the module docstring): returns the numbers of the order's FOs now waiting
    to be sent. ORDER_NOT_FOUND, ORDER_CANCELLED; ORDER_NOT_RELEASABLE when nothing is held
    for it and nothing is waiting."""
    found = fetch_rows(w, "SELECT id FROM orders WHERE number = ?", [number])
    if not found:
        raise AislewayError(ErrorCode.ORDER_NOT_FOUND, details={"number": number})
    order = _order_header(w, int(found[0]["id"]))
    if order["status"] == "cancelled":
        raise AislewayError(ErrorCode.ORDER_CANCELLED, details={"number": number})
    oid = int(order["id"])
    now = iso()
    held_sites = fetch_rows(
        w,
        "SELECT DISTINCT r.site_id, s.code FROM reservations r JOIN sites s ON s.id = r.site_id "
        "WHERE r.order_id = ? AND r.status = 'held' ORDER BY s.code",
        [oid],
    )
    planned: list[dict[str, Any]] = []
    for hs in held_sites:
        open_fo = fetch_rows(
            w,
            "SELECT * FROM fulfillments WHERE order_id = ? AND site_id = ? "
            "AND status != 'cancelled' ORDER BY seq DESC LIMIT 1",
            [oid, hs["site_id"]],
        )
        if open_fo and rank(OmsStatus(open_fo[0]["status"])) < _FROZEN:
            fo = open_fo[0]
        else:
            seq = (open_fo[0]["seq"] + 1) if open_fo else 1
            code = _fo_number(w, order, hs["code"], seq)
            cur = w.execute(
                "INSERT INTO fulfillments (order_id, site_id, seq, number, lines_json, "
                "carrier_service, version, next_attempt_at, requested_at, updated_at) "
                "VALUES (?,?,?,?,'[]',?,0,?,?,?)",
                [
                    oid,
                    hs["site_id"],
                    seq,
                    code,
                    _carrier_service(w, order, hs["code"]),
                    now,
                    now,
                    now,
                ],
            )
            fo = fetch_rows(w, "SELECT * FROM fulfillments WHERE id = ?", [cur.lastrowid])[0]
        planned.append(fo)
    for fo in planned:
        _renew(w, fo, now)
    waiting = [
        r["number"]
        for r in fetch_rows(
            w,
            "SELECT number FROM fulfillments WHERE order_id = ? AND release_state != 'sent' "
            "ORDER BY number",
            [oid],
        )
    ]
    if not waiting:
        raise AislewayError(ErrorCode.ORDER_NOT_RELEASABLE, details={"number": number})
    w.execute(
        "UPDATE fulfillments SET release_state = 'pending', next_attempt_at = ? "
        "WHERE order_id = ? AND release_state = 'refused'",
        [now, oid],
    )
    if order["status"] in orders.OPEN_STATUSES:
        refresh_order_status(w, oid)
        orders.record(w, order, "release_requested", {"fulfillment_orders": waiting})
    return waiting


def _renew(w: SUDatabase, fo: dict[str, Any], now: str) -> bool:
    """A new version of `fo` when what it must ask of its site changed; True if so."""
    want = _desired(w, fo)
    if want == json.loads(fo["lines_json"]) and fo["version"] > 0:
        return False
    w.execute(
        "UPDATE fulfillments SET version = version + 1, lines_json = ?, release_state = 'pending', "
        "attempts = 0, next_attempt_at = ?, last_error = NULL, updated_at = ? WHERE id = ?",
        [json.dumps(want, separators=(",", ":")), now, now, fo["id"]],
    )
    return True


def _fo_body(w: Source, fo: dict[str, Any]) -> dict[str, Any]:
    order = _order_header(w, int(fo["order_id"]))
    ship_to = json.loads(order["ship_to_json"])
    return {
        "ship_to": {
            k: ship_to[k] for k in ("name", "address_lines", "city", "postal_code", "country")
        },
        "carrier_service": fo["carrier_service"],
        "promised_ship_date": None,
        "owner": "",  # the site derives it from the items (3PL clients, docs/clients.md)
        "lines": json.loads(fo["lines_json"]),
    }


def send_fulfillment(oms: OmsServices, number: str) -> str:
    """Step 2 for FO `number`: returns its release state afterwards (`sent`, `pending`,
    `refused`)."""
    db = oms.db
    rows = fetch_rows(db, "SELECT * FROM fulfillments WHERE number = ?", [number])
    if not rows or rows[0]["release_state"] != "pending":
        return rows[0]["release_state"] if rows else "unknown"
    fo = rows[0]
    site = get_site(
        db, fetch_rows(db, "SELECT code FROM sites WHERE id = ?", [fo["site_id"]])[0]["code"]
    )
    assert site is not None
    version = int(fo["version"])
    body = _fo_body(db, fo)
    key = f"oms-{number}-v{version}"
    try:
        with SiteClient(site, timeout=oms.settings.site_timeout_seconds) as client:
            client.put_fulfillment_order(number, body, key)
            allocated = client.allocate(number, key + "-allocate")
            snap = client.snapshot(sorted({ln["sku"] for ln in body["lines"]}))
    except SiteUnreachable as exc:
        _failed(oms, fo, version, exc.reason)
        return "pending"
    except SiteRefused as exc:
        with db.write() as w:
            w.execute(
                "UPDATE fulfillments SET release_state = 'refused', last_error = ?, "
                "attempts = attempts + 1, updated_at = ? WHERE id = ? AND version = ?",
                [f"{exc.edge_code}: {exc.edge_text}"[:500], iso(), fo["id"], version],
            )
            journey_add(
                w,
                fo["order_id"],
                fo["id"],
                None,
                fo["status"],
                "release.refused",
                iso(),
                {"code": exc.edge_code, "text": exc.edge_text, "details": exc.edge_details},
            )
        return "refused"
    as_of = snap.get("as_of") or iso()
    levels = {row["sku"]: int(row["available"]) for row in snap.get("stock", [])}
    with db.write() as w:
        now_fo = fetch_rows(w, "SELECT * FROM fulfillments WHERE id = ?", [fo["id"]])[0]
        if int(now_fo["version"]) != version or now_fo["release_state"] != "pending":
            return str(now_fo["release_state"])  # a newer version is on its way
        if _renew(w, now_fo, iso()):
            return "pending"  # more was reserved meanwhile: send that version first
        released = mark_released(w, int(fo["order_id"]), site.code)
        for sku, available in levels.items():
            set_site_stock(w, site.code, sku, available, as_of)
        stamp = iso()
        status = fo_status = OmsStatus(now_fo["status"])
        if rank(status) < rank(OmsStatus.RELEASED):
            fo_status = OmsStatus.RELEASED
        w.execute(
            "UPDATE fulfillments SET release_state = 'sent', sent_at = ?, status = ?, "
            "last_error = NULL, updated_at = ? WHERE id = ?",
            [stamp, fo_status.value, stamp, fo["id"]],
        )
        journey_add(
            w,
            fo["order_id"],
            fo["id"],
            "released",
            fo_status.value,
            "release.sent",
            stamp,
            {"version": version, "allocation": allocated.get("outcome"), "released": released},
        )
        refresh_order_status(w, int(fo["order_id"]))
        for sku in sorted(levels):
            _stock_changed(w, site.code, sku)
    return "sent"


def _failed(oms: OmsServices, fo: dict[str, Any], version: int, reason: str) -> None:
    attempts = int(fo["attempts"]) + 1
    wait = min(
        oms.settings.site_poll_seconds * 2 ** (attempts - 1), oms.settings.release_retry_max_seconds
    )
    with oms.db.write() as w:
        w.execute(
            "UPDATE fulfillments SET attempts = ?, next_attempt_at = ?, last_error = ?, "
            "updated_at = ? WHERE id = ? AND version = ? AND release_state = 'pending'",
            [
                attempts,
                iso(utcnow() + timedelta(seconds=wait)),
                reason[:500],
                iso(),
                fo["id"],
                version,
            ],
        )
    log.info("site %s did not take %s: %s", fo["site_id"], fo["number"], reason)


def release_order(oms: OmsServices, number: str) -> dict[str, Any]:
    """Plan the order's release and send its FOs now; what could not be sent stays pending
    for `SiteLoop`. Returns `fulfillments_view`."""
    with oms.db.write() as w:
        waiting = plan_release(w, number)
    for fo in waiting:
        send_fulfillment(oms, fo)
    return fulfillments_view(oms.db, number)


def fulfillments_view(src: Source, number: str) -> dict[str, Any]:
    """The order's FOs: site, number, status, release state, version, lines, attempts."""
    rows = fetch_rows(
        src,
        "SELECT f.*, s.code AS site, o.status AS order_status FROM fulfillments f "
        "JOIN sites s ON s.id = f.site_id JOIN orders o ON o.id = f.order_id "
        "WHERE o.number = ? ORDER BY s.code, f.seq",
        [number],
    )
    status = fetch_rows(src, "SELECT status FROM orders WHERE number = ?", [number])
    return {
        "number": number,
        "status": status[0]["status"] if status else None,
        "fulfillment_orders": [
            {
                "number": r["number"],
                "site": r["site"],
                "status": r["status"],
                "release_state": r["release_state"],
                "version": r["version"],
                "lines": json.loads(r["lines_json"]),
                "carrier_service": r["carrier_service"],
                "attempts": r["attempts"],
                "next_attempt_at": r["next_attempt_at"]
                if r["release_state"] == "pending"
                else None,
                "last_error": r["last_error"],
                "sent_at": r["sent_at"],
            }
            for r in rows
        ],
    }


def releasable_orders(src: Source) -> list[str]:
    """Orders to release on their own: something held, payment authorized or paid, not
    waiting for stock (fully reserved, or already released and topped up since), and no FO
    of theirs still waiting to be sent or refused (an admin releases those)."""
    return [
        r["number"]
        for r in fetch_rows(
            src,
            "SELECT o.number FROM orders o WHERE o.id IN ("
            "  SELECT DISTINCT order_id FROM reservations WHERE status = 'held') "
            "AND o.payment_status IN ('authorized', 'paid') "
            "AND o.status NOT IN ('received', 'backordered', 'partially_reserved', 'cancelled') "
            # one whose FOs are still on their way is the loop's already (send_due)
            "AND NOT EXISTS (SELECT 1 FROM fulfillments f WHERE f.order_id = o.id "
            "  AND f.release_state != 'sent') "
            "ORDER BY o.received_at, o.id",
        )
    ]


def send_due(oms: OmsServices, *, now: str | None = None) -> dict[str, str]:
    """Send every pending FO whose next attempt is due; `{number: state after}`."""
    due = fetch_rows(
        oms.db,
        "SELECT number FROM fulfillments WHERE release_state = 'pending' AND next_attempt_at <= ? "
        "ORDER BY next_attempt_at, id",
        [now or iso()],
    )
    return {r["number"]: send_fulfillment(oms, r["number"]) for r in due}


class SiteLoop(BackgroundLoop):
    """Auto-release, due sends and reconciliation, in one thread (see the module docstring)."""

    thread_name: ClassVar[str] = "oms-sites"

    def __init__(self, oms: OmsServices) -> None:
        super().__init__(oms.settings.site_poll_seconds)
        self.oms = oms
        self._next_reconcile = 0.0
        oms.db.on_commit(self.wake)

    def run_once(self, *, reconcile: bool = False) -> dict[str, Any]:
        """One pass; `reconcile` forces the snapshots now (tests, `POST …/reconcile`)."""
        oms = self.oms
        released: list[str] = []
        if oms.settings.auto_release:
            for number in releasable_orders(oms.db):
                try:
                    with oms.db.write() as w:
                        plan_release(w, number)
                    released.append(number)
                except AislewayError as exc:
                    log.info("auto-release of %s refused: %s", number, exc.code.value)
        sent = send_due(oms)
        # Imported here: returns imports site_events, as this module does. Pending RMAs.
        from edge_server.oms.returns import send_due_returns

        returns_sent = send_due_returns(oms)
        reconciled: dict[str, Any] = {}
        interval = oms.settings.site_reconcile_seconds
        if reconcile or (interval > 0 and time.monotonic() >= self._next_reconcile):
            self._next_reconcile = time.monotonic() + interval
            for row in fetch_rows(oms.db, "SELECT code FROM sites WHERE active = 1 ORDER BY code"):
                timeout = oms.settings.site_timeout_seconds
                try:
                    # first what the site gave up sending, then its stock in full
                    recovered = recover_missed(oms.db, row["code"], timeout=timeout)
                    counts = reconcile_site(oms.db, row["code"], timeout=timeout)
                    reconciled[row["code"]] = {**counts, "recovered": recovered}
                except AislewayError as exc:
                    reconciled[row["code"]] = {"error": exc.code.value}
            with oms.db.write() as w:
                prune_seen(w)
        return {
            "released": released,
            "sent": sent,
            "reconciled": reconciled,
            **({"returns_sent": returns_sent} if returns_sent else {}),
        }

    def tick(self) -> float | None:
        self.run_once()
        nxt = fetch_rows(
            self.oms.db,
            "SELECT MIN(next_attempt_at) AS at FROM fulfillments WHERE release_state = 'pending'",
        )[0]["at"]
        if nxt is None:
            return None
        return max((parse_iso(nxt) - utcnow()).total_seconds(), 0.0)
