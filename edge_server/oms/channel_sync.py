"""Pushing availability to the sales channels (docs/oms-channels.md).

Every change of a SKU's available-to-promise — a site's stock event or snapshot, a
reservation made or given back, a site switched off — queues the SKU in
`channel_sync_pending` in the same transaction (triggers of migration m040, and
`on_availability_changed` for code that wants to say so itself). `ChannelSync`, a background
loop woken by every commit, takes each SKU once its debounce window (from its FIRST change)
has passed, computes what each channel may see (`channels.buffered`), and for every channel
whose value differs from what it was last sent writes one `inventory.availability` outbox
event addressed to that channel's own webhook subscriber. The relay signs and delivers it
(Standard Webhooks), in order per channel, retrying with backoff.

A burst of changes to one SKU is pushed once, with the latest value, at most one window after
the first change; SKUs are independent. `reconcile` pushes a channel its complete list (on
request and every `channel_reconcile_interval_seconds`), which repairs anything a channel
missed (a delivery that failed for good, a channel that lost its copy).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.background import BackgroundLoop
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.oms import site_events
from edge_server.oms.channels import AVAILABILITY_EVENT, buffered, channel_row, mark_pending
from edge_server.oms.settings import OmsSettings
from edge_server.timeutil import iso, utcnow
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = [
    "ITEMS_PER_EVENT",
    "ChannelSync",
    "on_availability_changed",
    "publish",
    "push_due",
    "reconcile",
    "reconcile_due",
    "total_atp",
]

log = logging.getLogger("aisleway.oms.channels")

#: Items in one push; a reconciliation of more SKUs is sent in parts.
ITEMS_PER_EVENT = 500
_CHUNK = 500  # SQL IN (...) lists


def on_availability_changed(w: SUDatabase, sku: str) -> None:
    """Say inside a write transaction that `sku`'s availability may have changed (the
    site_stock triggers already do for stock and reservations)."""
    mark_pending(w, [sku])


def _on_stock_changed(w: SUDatabase, site: str, sku: str) -> None:
    """The site-events hook (`site_events.on_stock_changed`): (w, site, sku)."""
    on_availability_changed(w, sku)


def _chunks(items: Sequence[str], size: int = _CHUNK) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def total_atp(src: Source, skus: Sequence[str]) -> dict[str, int]:
    """`{sku: ATP summed over the active sites}` (0 for a SKU nowhere in stock)."""
    out = dict.fromkeys(skus, 0)
    for chunk in _chunks(sorted(set(skus))):
        marks = ",".join("?" * len(chunk))
        for r in fetch_rows(
            src,
            "SELECT st.sku, SUM(max(st.available - st.reserved, 0)) AS atp FROM site_stock st "
            f"JOIN sites s ON s.id = st.site_id WHERE s.active = 1 AND st.sku IN ({marks}) "
            "GROUP BY st.sku",
            list(chunk),
        ):
            out[r["sku"]] = int(r["atp"])
    return out


def _push_channels(w: SUDatabase, channel_id: int | None) -> list[dict[str, Any]]:
    """Active channels with an active endpoint (or just `channel_id`)."""
    return fetch_rows(
        w,
        "SELECT c.id, c.code, c.buffer_bp, c.buffer_units, c.subscriber_id FROM channels c "
        "JOIN webhook_subscribers s ON s.id = c.subscriber_id AND s.active = 1 "
        "WHERE c.active = 1"
        + (" AND c.id = ?" if channel_id is not None else "")
        + " ORDER BY c.id",
        [channel_id] if channel_id is not None else [],
    )


def publish(
    w: SUDatabase,
    skus: Sequence[str],
    *,
    channel_id: int | None = None,
    force: bool = False,
    reason: str = "change",
) -> list[str]:
    """Push `skus` to every channel that lists them (or to `channel_id` only) where the
    buffered value differs from the last one sent (`force`: always). Runs inside the
    caller's write transaction; returns the outbox event ids written."""
    channels = _push_channels(w, channel_id)
    if not channels or not skus:
        return []
    totals = total_atp(w, skus)
    by_channel: dict[int, list[dict[str, Any]]] = {c["id"]: [] for c in channels}
    ids = ",".join(str(int(c["id"])) for c in channels)
    for chunk in _chunks(sorted(set(skus))):
        marks = ",".join("?" * len(chunk))
        for r in fetch_rows(
            w,
            "SELECT m.channel_id, m.sku, m.channel_sku, m.listing_id, p.available AS sent "
            "FROM channel_skus m LEFT JOIN channel_published p "
            "ON p.channel_id = m.channel_id AND p.sku = m.sku "
            f"WHERE m.listed = 1 AND m.channel_id IN ({ids}) AND m.sku IN ({marks}) "
            "ORDER BY m.sku",
            list(chunk),
        ):
            by_channel[r["channel_id"]].append(r)
    now = iso()
    event_ids: list[str] = []
    for channel in channels:
        items: list[dict[str, Any]] = []
        atps: list[int] = []
        for m in by_channel[channel["id"]]:
            atp = totals.get(m["sku"], 0)
            value = buffered(atp, channel["buffer_bp"], channel["buffer_units"])
            if force or m["sent"] != value:
                items.append(
                    {
                        "sku": m["sku"],
                        "channel_sku": m["channel_sku"],
                        "listing_id": m["listing_id"],
                        "available": value,
                    }
                )
                atps.append(atp)
        if not items and not force:
            continue
        parts = [items[i : i + ITEMS_PER_EVENT] for i in range(0, len(items), ITEMS_PER_EVENT)]
        snapshot_id = f"snap_{uuid.uuid4().hex}" if reason == "reconcile" else None
        for n, part in enumerate(parts or [[]], start=1):
            payload: dict[str, Any] = {
                "channel": channel["code"],
                "reason": reason,
                "items": part,
                "published_at": now,
            }
            if snapshot_id is not None:
                payload["snapshot"] = {"id": snapshot_id, "part": n, "parts": max(len(parts), 1)}
            event_id = emit(
                w, AVAILABILITY_EVENT, payload, subscriber_ids=[channel["subscriber_id"]]
            )
            event_ids.append(event_id)
            start = (n - 1) * ITEMS_PER_EVENT
            for item, atp in zip(part, atps[start : start + len(part)], strict=True):
                w.execute(
                    "INSERT INTO channel_published (channel_id, sku, available, atp, event_id, "
                    "published_at) VALUES (?,?,?,?,?,?) ON CONFLICT (channel_id, sku) DO UPDATE "
                    "SET available = excluded.available, atp = excluded.atp, "
                    "event_id = excluded.event_id, published_at = excluded.published_at",
                    [channel["id"], item["sku"], item["available"], atp, event_id, now],
                )
    return event_ids


def _first_pending(db: Database) -> float | None:
    head = db.query_one("SELECT MIN(since) AS first FROM channel_sync_pending")
    return None if head is None or head["first"] is None else float(head["first"])


def push_due(db: Database, window: float, *, now: float | None = None) -> float | None:
    """Push every SKU whose first change is at least `window` seconds old; returns the
    seconds until the next one is due (None: nothing pending)."""
    while True:
        cutoff = (time.time() if now is None else now) - window
        first = _first_pending(db)
        if first is None:
            return None
        if first > cutoff:
            return first - cutoff
        with db.write() as w:
            skus = [
                r["sku"]
                for r in fetch_rows(
                    w,
                    "SELECT sku FROM channel_sync_pending WHERE since <= ? ORDER BY since LIMIT ?",
                    [cutoff, _CHUNK],
                )
            ]
            if skus:
                publish(w, skus)
                marks = ",".join("?" * len(skus))
                w.execute(f"DELETE FROM channel_sync_pending WHERE sku IN ({marks})", skus)


def reconcile(w: SUDatabase, code: str) -> dict[str, Any]:
    """Push channel `code` its complete published list now (every listed SKU, whether or
    not it changed), as one snapshot in parts. CHANNEL_INACTIVE / CHANNEL_NO_ENDPOINT."""
    row = channel_row(w, code)
    if not row["active"]:
        raise AislewayError(ErrorCode.CHANNEL_INACTIVE, details={"channel": code})
    if not row["subscriber_active"]:
        raise AislewayError(ErrorCode.CHANNEL_NO_ENDPOINT, details={"channel": code})
    skus = [
        r["sku"]
        for r in fetch_rows(
            w, "SELECT sku FROM channel_skus WHERE channel_id = ? AND listed = 1", [row["id"]]
        )
    ]
    events = publish(w, skus, channel_id=row["id"], force=True, reason="reconcile")
    w.execute("UPDATE channels SET reconciled_at = ? WHERE id = ?", [iso(), row["id"]])
    return {"channel": code, "skus": len(skus), "events": events}


def reconcile_due(db: Database, interval: float) -> list[str]:
    """Reconcile every pushing channel not reconciled (nor created) within `interval`."""
    since = iso(utcnow() - timedelta(seconds=interval))
    due = db.query(
        "SELECT c.code FROM channels c "
        "JOIN webhook_subscribers s ON s.id = c.subscriber_id AND s.active = 1 "
        "WHERE c.active = 1 AND COALESCE(c.reconciled_at, c.created_at) <= ? ORDER BY c.code",
        [since],
    )
    done = []
    for r in due:
        with db.write() as w:
            reconcile(w, r["code"])
        done.append(r["code"])
    return done


class ChannelSync(BackgroundLoop):
    """The debounce loop: woken by every commit, it pushes each pending SKU when its window
    has passed, and reconciles the channels when due."""

    thread_name = "channel-sync"
    min_wait_seconds = 0.001

    def __init__(self, db: Database, settings: OmsSettings, *, poll_seconds: float = 1.0) -> None:
        super().__init__(poll_seconds)
        self._db = db
        self._window = settings.channel_debounce_seconds
        self._reconcile_every = settings.channel_reconcile_interval_seconds
        self._next_reconcile_check = 0.0
        db.on_commit(self.wake)

    def tick(self) -> float | None:
        wait = push_due(self._db, self._window)
        if self._reconcile_every > 0 and time.monotonic() >= self._next_reconcile_check:
            self._next_reconcile_check = time.monotonic() + min(self._reconcile_every, 5.0)
            for code in reconcile_due(self._db, self._reconcile_every):
                log.info("channel reconciled", extra={"channel": code})
        return wait


# Every stock change the site-event intake records also queues the SKU here (the site_stock
# triggers already do; the hook says it where the intake can see it).
if _on_stock_changed not in site_events.on_stock_changed:
    site_events.on_stock_changed.append(_on_stock_changed)
