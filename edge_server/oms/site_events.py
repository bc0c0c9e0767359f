"""What the sites tell the OMS: their signed webhooks (stock, fulfillment orders, waves,
shipments, returns), their reconciliation snapshots, and the OMS's subscription on each site.

Intake (`POST /api/v1/sites/{code}/events`, docs/oms-sites.md):

1. `check_signature`: the Standard Webhooks signature must verify with that site's secret,
   and its timestamp be within 5 minutes of the OMS's clock; else nothing is read further.
2. `parse_event`: a JSON object with `type` and `data`, its `id` the `webhook-id`, its
   `data.site` (when given) the site of the URL.
3. `take_event`, inside one write transaction: the webhook id is the idempotency key. Seen
   with the same body: a redelivery, answered 200 and nothing changes; seen with another
   body: refused (SITE_EVENT_REPLAYED). Otherwise the event is applied and its id stored:
   `inventory.changed` sets the site's stock (`set_site_stock`, then every `on_stock_changed`
   hook, in the same transaction); fulfillment-order, wave, shipment and return events move
   the OMS's fulfillment orders through the status map (`protocols.status.advance`), roll the
   order's status up and add journey steps (tracking numbers from `shipment.created`).
   Anything else is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.signing import (
    DEFAULT_TOLERANCE_SECONDS,
    HEADER_TIMESTAMP,
    SignatureError,
    verify,
)
from edge_server.oms import orders
from edge_server.oms.reservations import apply_snapshot, set_site_stock
from edge_server.oms.site_client import SiteClient
from edge_server.oms.sites import Site, get_site
from edge_server.timeutil import iso, utcnow
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode
from protocols.status import OmsStatus, advance, map_row, rank, rollup

__all__ = [
    "SEEN_KEEP_DAYS",
    "StockHook",
    "check_signature",
    "journey_add",
    "on_stock_changed",
    "parse_event",
    "prune_seen",
    "reconcile_site",
    "recover_missed",
    "refresh_order_status",
    "site_link",
    "subscribe_site",
    "take_event",
]

log = logging.getLogger(__name__)

#: Called as `hook(w, site_code, sku)` inside the transaction that changed a site's stock of
#: `sku` (a stock event, a reconciliation, a release). Backorder filling and channel sync
#: register here; a hook that raises rolls the change back (the site redelivers the event).
StockHook = Callable[[SUDatabase, str, str], None]
on_stock_changed: list[StockHook] = []

#: How long webhook ids are kept for deduplication (the edge retries for about 32 minutes).
SEEN_KEEP_DAYS = 7

CARRIER_SERVICE_CHANGED = "carrier_service.changed"
INVENTORY_CHANGED = "inventory.changed"
#: Events whose details belong in the journey even when the status did not move.
_DETAILED = ("shipment.created", "return.received", "return.closed", "tracking.delivered")


# -- 1. the signature ------------------------------------------------------------------------
def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def check_signature(
    site: Site, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> str:
    """The event's `webhook-id` if `site` signed it within the last 5 minutes; refuses with
    SITE_NOT_SUBSCRIBED (no secret stored), SITE_EVENT_STALE or SITE_EVENT_SIGNATURE_INVALID."""
    if not site.webhook_secret:
        raise AislewayError(ErrorCode.SITE_NOT_SUBSCRIBED, details={"site": site.code})
    current = time.time() if now is None else now
    raw_ts = _header(headers, HEADER_TIMESTAMP)
    try:
        stamp = int((raw_ts or "").strip())
    except ValueError:
        stamp = None
    if stamp is not None and abs(current - stamp) > DEFAULT_TOLERANCE_SECONDS:
        raise AislewayError(
            ErrorCode.SITE_EVENT_STALE,
            details={"site": site.code, "webhook_timestamp": stamp, "tolerance_seconds": 300},
        )
    try:
        return verify(site.webhook_secret, headers, body, now=current)
    except SignatureError as exc:
        raise AislewayError(
            ErrorCode.SITE_EVENT_SIGNATURE_INVALID, details={"site": site.code, "reason": str(exc)}
        ) from exc


# -- 2. the event ------------------------------------------------------------------------------
def _invalid(site: Site, reason: str) -> AislewayError:
    return AislewayError(
        ErrorCode.SITE_EVENT_INVALID, details={"site": site.code, "reason": reason}
    )


def parse_event(site: Site, webhook_id: str, body: bytes) -> dict[str, Any]:
    """The event as a dict with `type`, `data` and `timestamp`; SITE_EVENT_INVALID when it
    is not an event of this site."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise _invalid(site, "the body is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise _invalid(site, "no event type")
    if not isinstance(event.get("data"), dict):
        raise _invalid(site, "no event data")
    if event.get("id", webhook_id) != webhook_id:
        raise _invalid(site, "the event id differs from the webhook-id header")
    named = event["data"].get("site")
    if named is not None and named != site.code:
        raise _invalid(site, f"an event of site {named!r} sent to site {site.code!r}")
    return event


def _event_time(event: dict[str, Any]) -> str:
    """When it happened at the site (`timestamp`, UTC ISO); now if missing or unreadable."""
    try:
        when = datetime.fromisoformat(str(event.get("timestamp")))
    except ValueError:
        return iso()
    return iso(when) if when.tzinfo is not None else iso()


# -- 3. applying it ----------------------------------------------------------------------------
def take_event(
    w: SUDatabase, site: Site, webhook_id: str, body: bytes, event: dict[str, Any]
) -> dict[str, Any]:
    """Apply one verified event exactly once (see the module docstring); returns what it did:
    `{event_id, type, outcome: applied|duplicate|ignored, changes: [...]}`."""
    digest = hashlib.sha256(body).hexdigest()
    seen = fetch_rows(
        w,
        "SELECT body_sha256, outcome FROM site_events_seen WHERE site_id = ? AND webhook_id = ?",
        [site.id, webhook_id],
    )
    kind = event["type"]
    if seen:
        if seen[0]["body_sha256"] != digest:
            raise AislewayError(
                ErrorCode.SITE_EVENT_REPLAYED, details={"site": site.code, "webhook_id": webhook_id}
            )
        return {"event_id": webhook_id, "type": kind, "outcome": "duplicate", "changes": []}
    at = _event_time(event)
    data = event["data"]
    if kind == INVENTORY_CHANGED:
        changes = _stock_event(w, site, data, at)
    elif kind == CARRIER_SERVICE_CHANGED:
        changes = _carrier_service_event(w, site, data)
    elif map_row(kind, data.get("status")) is not None:
        changes = _fo_event(w, site, kind, data, at)
        if kind.startswith("return."):
            # Imported here: returns imports this module. RMA progress, e-mails, refund.
            from edge_server.oms.returns import on_return_event

            changes += on_return_event(w, site, webhook_id, kind, data, at)
    else:
        changes = []
    outcome = "applied" if changes else "ignored"
    w.execute(
        "INSERT INTO site_events_seen (site_id, webhook_id, body_sha256, event_type, outcome, "
        "received_at) VALUES (?,?,?,?,?,?)",
        [site.id, webhook_id, digest, kind[:100], outcome, iso()],
    )
    return {"event_id": webhook_id, "type": kind, "outcome": outcome, "changes": changes}


def _carrier_service_event(w: SUDatabase, site: Site, data: dict[str, Any]) -> list[Any]:
    """A site's carrier service (cutoff, rate card) for sourcing; stale or unchanged: nothing."""
    from edge_server.oms.sourcing_adapter import upsert_site_carrier_service

    outcome = upsert_site_carrier_service(w, site.code, data)
    if outcome in ("unchanged", "stale"):
        return []
    service = data.get("service", data)
    return [{"carrier_service": service.get("code"), "outcome": outcome}]


def _stock_changed(w: SUDatabase, site: str, sku: str) -> None:
    for hook in list(on_stock_changed):
        hook(w, site, sku)


def _stock_event(w: SUDatabase, site: Site, data: dict[str, Any], at: str) -> list[dict[str, Any]]:
    sku, atp = data.get("sku"), data.get("atp")
    # `atp` (what the site can still promise) is what the OMS keeps; an edge too old to send
    # it is repaired by the reconciliation snapshot instead.
    if not isinstance(sku, str) or not isinstance(atp, int) or isinstance(atp, bool):
        return []
    recorded = set_site_stock(w, site.code, sku, max(atp, 0), at)
    if recorded:
        _stock_changed(w, site.code, sku)
    return [{"sku": sku, "available": max(atp, 0), "recorded": recorded}]


def _fo_numbers(kind: str, data: dict[str, Any]) -> list[str]:
    row = map_row(kind, data.get("status"))
    assert row is not None
    value = data.get(row.orders_from.strip("`"))
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _detail(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the journey keeps of an event."""
    if kind == "shipment.created":
        cartons = data.get("cartons") or []
        return {
            "tracking": [c.get("tracking") for c in cartons if c.get("tracking")],
            "sscc": [c.get("sscc") for c in cartons if c.get("sscc")],
            "carrier_service": data.get("carrier_service"),
            "shipped_at": data.get("shipped_at"),
        }
    if kind.startswith("wave."):
        return {"wave": data.get("number")}
    if kind == "fulfillment_order.backordered":
        return {"lines": data.get("lines", [])}
    if kind.startswith("return."):
        keep = ("rma", "sku", "qty", "sellable_qty", "disposition", "units_received", "complete")
        return {k: data[k] for k in keep if k in data}
    if kind == "fulfillment_order.changed":
        return {"outcome": data.get("outcome"), "site_status": data.get("status")}
    return {}


def journey_add(
    w: SUDatabase,
    order_id: int,
    fulfillment_id: int | None,
    step: str | None,
    status: str,
    event: str,
    at: str,
    detail: dict[str, Any],
) -> None:
    """One journey entry of an order (at a site when `fulfillment_id` is given)."""
    w.execute(
        "INSERT INTO journey (order_id, fulfillment_id, step, status, event, at, recorded_at, "
        "detail_json) VALUES (?,?,?,?,?,?,?,?)",
        [
            order_id,
            fulfillment_id,
            step,
            status,
            event,
            at,
            iso(),
            json.dumps(detail, separators=(",", ":")),
        ],
    )


def _order_header(w: Source, order_id: int) -> dict[str, Any]:
    return fetch_rows(
        w,
        "SELECT o.*, c.code AS channel FROM orders o JOIN channels c ON c.id = o.channel_id "
        "WHERE o.id = ?",
        [order_id],
    )[0]


def refresh_order_status(w: SUDatabase, order_id: int) -> str | None:
    """Set the order's status to the rollup of its fulfillment orders (one not yet accepted
    by its site counts as `released`: it is on its way). Returns the new status if it
    changed."""
    statuses = [
        OmsStatus(r["status"])
        for r in fetch_rows(w, "SELECT status FROM fulfillments WHERE order_id = ?", [order_id])
    ]
    floor = rank(OmsStatus.RELEASED)
    effective = [
        s if s == OmsStatus.CANCELLED or rank(s) >= floor else OmsStatus.RELEASED for s in statuses
    ]
    target = rollup(effective)
    order = _order_header(w, order_id)
    if target is None or order["status"] == target.value:
        return None
    w.execute(
        "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?", [target.value, iso(), order_id]
    )
    return target.value


def _fo_event(
    w: SUDatabase, site: Site, kind: str, data: dict[str, Any], at: str
) -> list[dict[str, Any]]:
    changes = []
    payload_status = data.get("status") if kind == "fulfillment_order.changed" else None
    for number in _fo_numbers(kind, data):
        found = fetch_rows(
            w, "SELECT * FROM fulfillments WHERE number = ? AND site_id = ?", [number, site.id]
        )
        if not found:
            continue  # an order the site took from someone else: not the OMS's business
        fo = found[0]
        move = advance(OmsStatus(fo["status"]), kind, payload_status)
        if move is None:
            continue
        if move.changed:
            w.execute(
                "UPDATE fulfillments SET status = ?, updated_at = ? WHERE id = ?",
                [move.after.value, iso(), fo["id"]],
            )
        detail = _detail(kind, data)
        if move.reason in ("advanced", "noted") or (kind in _DETAILED and move.reason != "stale"):
            step = move.step if move.reason == "advanced" or kind in _DETAILED else None
            journey_add(w, fo["order_id"], fo["id"], step, move.after.value, kind, at, detail)
        order_status = refresh_order_status(w, fo["order_id"])
        if move.changed or kind in _DETAILED:
            orders.record(
                w,
                _order_header(w, fo["order_id"]),
                "fulfillment_changed",
                {
                    "site": site.code,
                    "fulfillment_order": number,
                    "event": kind,
                    "fulfillment_status": move.after.value,
                    **({"tracking": detail["tracking"]} if "tracking" in detail else {}),
                },
            )
        if kind == "shipment.created" and move.reason != "stale":
            from edge_server.oms.returns import on_shipment

            on_shipment(w, fo, data)
        changes.append(
            {
                "fulfillment_order": number,
                "before": move.before.value,
                "after": move.after.value,
                "reason": move.reason,
                "order_status": order_status,
            }
        )
    return changes


def prune_seen(w: SUDatabase, *, keep_days: int = SEEN_KEEP_DAYS) -> int:
    """Forget webhook ids older than `keep_days` (redeliveries stop long before)."""
    cutoff = iso(utcnow() - timedelta(days=keep_days))
    return w.execute("DELETE FROM site_events_seen WHERE received_at < ?", [cutoff]).rowcount


# -- reconciliation ------------------------------------------------------------------------
def reconcile_site(db: Database, code: str, *, timeout: float = 10.0) -> dict[str, int]:
    """Pull the site's whole `GET /inventory/snapshot` and apply it in full (SKUs it no longer
    lists drop to 0; levels a newer stock event already set are left alone). Raises
    SiteUnreachable / SiteRefused (recorded on the site's link). Returns apply_snapshot's
    counts."""
    site = get_site(db, code)
    if site is None:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    try:
        with SiteClient(site, timeout=timeout) as client:
            snap = client.snapshot()
    except AislewayError as exc:
        with db.write() as w:
            _link(w, site.id, reconcile_error=f"{exc.code.value}: {exc.details}"[:500])
        raise
    levels = {row["sku"]: int(row["available"]) for row in snap.get("stock", [])}
    as_of = snap.get("as_of") or iso()
    with db.write() as w:
        before = _levels(w, site.id)
        counts = apply_snapshot(w, code, levels, as_of, full=True)
        after = _levels(w, site.id)
        for sku in sorted(set(before) | set(after)):
            if before.get(sku) != after.get(sku):
                _stock_changed(w, code, sku)
        _link(w, site.id, reconciled_at=iso(), reconcile_error=None)
    return counts


def recover_missed(db: Database, code: str, *, timeout: float = 10.0) -> int:
    """Take the events site `code` gave up delivering to the OMS (deliveries `failed` after
    the relay's last attempt: a partition longer than its schedule, about 32 minutes by
    default). Lists the OMS subscriber's failed deliveries of the last `SEEN_KEEP_DAYS` on
    the site, reads each event not yet taken from the site's event feed (with the site's
    key: no signature needed) and takes it as a delivery would, oldest first (`take_event`:
    once per id; a stale stock level is ignored, statuses only move forward). Returns how
    many were taken. Raises SiteUnreachable / SiteRefused."""
    site = get_site(db, code)
    if site is None:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    link = fetch_rows(db, "SELECT subscriber_id FROM site_links WHERE site_id = ?", [site.id])
    if not link or link[0]["subscriber_id"] is None:
        return 0
    subscriber = int(link[0]["subscriber_id"])
    # younger than the ids kept: an event taken before still has its record
    cutoff = iso(utcnow() - timedelta(days=SEEN_KEEP_DAYS))
    taken = 0
    with SiteClient(site, timeout=timeout) as client:
        missed: dict[int, str] = {}
        before: int | None = None
        while True:
            page = client.failed_deliveries(subscriber, before=before)
            fresh = [d for d in page if str(d.get("event_created_at")) >= cutoff]
            missed.update({int(d["seq"]): str(d["event_id"]) for d in fresh})
            if len(fresh) < len(page) or not page:
                break
            before = min(int(d["id"]) for d in page)
        for seq in sorted(missed):
            if fetch_rows(
                db,
                "SELECT 1 FROM site_events_seen WHERE site_id = ? AND webhook_id = ?",
                [site.id, missed[seq]],
            ):
                continue
            found = client.event(seq)
            if found is None or found.get("id") != missed[seq]:
                continue
            envelope = {k: found[k] for k in ("type", "id", "timestamp", "data") if k in found}
            body = json.dumps(envelope, separators=(",", ":")).encode()
            try:
                event = parse_event(site, missed[seq], body)
                with db.write() as w:
                    done = take_event(w, site, missed[seq], body, event)
            except AislewayError as exc:
                log.warning("site %s event %s not recovered: %s", code, missed[seq], exc.code)
                continue
            taken += done["outcome"] != "duplicate"
    return taken


def _levels(w: SUDatabase, sid: int) -> dict[str, int]:
    return {
        r["sku"]: r["available"]
        for r in fetch_rows(w, "SELECT sku, available FROM site_stock WHERE site_id = ?", [sid])
    }


_UNSET: Any = object()


def _link(
    w: SUDatabase,
    sid: int,
    *,
    subscriber_id: Any = _UNSET,
    intake_url: Any = _UNSET,
    subscribed_at: Any = _UNSET,
    reconciled_at: Any = _UNSET,
    reconcile_error: Any = _UNSET,
) -> None:
    w.execute("INSERT OR IGNORE INTO site_links (site_id) VALUES (?)", [sid])
    values = {
        k: v
        for k, v in {
            "subscriber_id": subscriber_id,
            "intake_url": intake_url,
            "subscribed_at": subscribed_at,
            "reconciled_at": reconciled_at,
            "reconcile_error": reconcile_error,
        }.items()
        if v is not _UNSET
    }
    if values:
        sets = ", ".join(f"{k} = ?" for k in values)
        w.execute(f"UPDATE site_links SET {sets} WHERE site_id = ?", [*values.values(), sid])


# -- the subscription ----------------------------------------------------------------------
def intake_url(public_url: str, code: str) -> str:
    """Where site `code` sends its events: `<OMS>/api/v1/sites/<code>/events`."""
    return f"{public_url.rstrip('/')}/api/v1/sites/{code}/events"


def subscribe_site(
    db: Database,
    code: str,
    public_url: str,
    *,
    admin_key: str | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Subscribe the OMS to site `code`'s events (`POST /webhooks/subscribers` on the edge,
    with `admin_key` or else the site's own key, which then needs `webhooks.manage`) and store
    the secret it returns; an earlier subscription of the OMS there is deactivated after.
    Raises SiteUnreachable / SiteRefused; nothing is stored then."""
    site = get_site(db, code)
    if site is None:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    url = intake_url(public_url, code)
    old = fetch_rows(db, "SELECT subscriber_id FROM site_links WHERE site_id = ?", [site.id])
    stamp = iso()
    with SiteClient(site, timeout=timeout, token=admin_key) as client:
        created = client.subscribe(url, key=f"oms-subscribe-{code}-{stamp}")
        with db.write() as w:
            w.execute(
                "UPDATE sites SET webhook_secret = ?, updated_at = ? WHERE id = ?",
                [created["secret"], stamp, site.id],
            )
            _link(w, site.id, subscriber_id=created["id"], intake_url=url, subscribed_at=stamp)
        previous = old[0]["subscriber_id"] if old else None
        if previous is not None and previous != created["id"]:
            try:
                client.deactivate_subscriber(previous, key=f"oms-unsubscribe-{code}-{previous}")
            except AislewayError:
                log.warning("could not deactivate the old subscription %s at %s", previous, code)
    return {"site": code, "subscriber_id": created["id"], "intake_url": url}


def site_link(src: Source, code: str) -> dict[str, Any]:
    """The OMS's subscription on site `code` and its last reconciliation (no secrets)."""
    rows = fetch_rows(
        src,
        "SELECT s.code, l.subscriber_id, l.intake_url, l.subscribed_at, l.reconciled_at, "
        "l.reconcile_error FROM sites s LEFT JOIN site_links l ON l.site_id = s.id "
        "WHERE s.code = ?",
        [code],
    )
    if not rows:
        raise AislewayError(ErrorCode.UNKNOWN_SITE, details={"site": code})
    r = rows[0]
    return {
        "site": r["code"],
        "subscriber_id": r["subscriber_id"],
        "intake_url": r["intake_url"],
        "subscribed_at": r["subscribed_at"],
        "reconciled_at": r["reconciled_at"],
        "reconcile_error": r["reconcile_error"],
    }
