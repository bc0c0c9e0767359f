"""Sales channels as the inventory sync sees them: a safety buffer, a webhook endpoint and
the mapping of our SKUs to the channel's listings (docs/oms-channels.md).

A channel's endpoint is a webhook subscriber of its own (`channels.subscriber_id`) whose
event types are empty: it receives only the events addressed to it by id, so one channel
never receives another channel's SKUs or listings. Its signing secret is shown once, when
the endpoint is first set (and on rotation).

Write functions take the caller's transaction (`w`) and never resolve host names: check the
endpoint with `check_channel_url` before the transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlite_utils import Database as SUDatabase

from edge_server.errors import AislewayError
from edge_server.integration import subscriptions
from edge_server.integration.url_guard import CheckedUrl, check_webhook_url
from edge_server.timeutil import iso
from edge_server.wms.purchase_orders import Source, fetch_rows
from protocols.errors import ErrorCode

__all__ = [
    "AVAILABILITY_EVENT",
    "ChannelIn",
    "ChannelSkuIn",
    "buffered",
    "channel_row",
    "channel_view",
    "check_channel_url",
    "deactivate_channel",
    "list_channel_skus",
    "list_channels",
    "mark_pending",
    "put_channel",
    "put_channel_sku",
    "remove_channel_sku",
    "rotate_channel_secret",
]

#: The event type of every availability push (changes and reconciliation alike).
AVAILABILITY_EVENT = "inventory.availability"
#: A channel's own SKU / listing id: what marketplaces use (letters, digits, punctuation).
CHANNEL_SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/#+-]{0,99}$"


class ChannelIn(BaseModel):
    """A channel as an administrator sets it (PUT replaces every field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    kind: Literal["web", "marketplace", "b2b", "edi", "pos", "other"] = "web"
    endpoint_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Where availability is pushed (signed webhooks); none: no pushes.",
    )
    buffer_pct: Decimal = Field(
        default=Decimal(0),
        ge=0,
        le=100,
        decimal_places=2,
        description="Held back from this channel, percent of total ATP (rounded down).",
    )
    buffer_units: int = Field(
        default=0, ge=0, le=1_000_000, description="Held back from this channel, in units."
    )
    active: bool = True


class ChannelSkuIn(BaseModel):
    """How the channel lists one of our SKUs. `listed: false` keeps the mapping, stops pushes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel_sku: str = Field(pattern=CHANNEL_SKU_PATTERN, description="The channel's SKU.")
    listing_id: str | None = Field(
        default=None, pattern=CHANNEL_SKU_PATTERN, description="The channel's listing id."
    )
    listed: bool = True


def buffered(atp: int, buffer_bp: int, buffer_units: int) -> int:
    """What a channel is shown of `atp`: max(0, floor(atp × (1 − pct/100)) − units), in
    integers (pct as basis points), so 10 with 10 % shows 9 and 5 with 10 % shows 4."""
    return max(0, (max(atp, 0) * (10_000 - buffer_bp)) // 10_000 - buffer_units)


def check_channel_url(url: str, *, allow_private: bool) -> CheckedUrl:
    """Refuse (WEBHOOK_URL_INVALID, naming why) an endpoint the relay must not POST to:
    the edge's SSRF guard. Resolves the host: call it outside a write transaction."""
    return check_webhook_url(url, allow_private=allow_private)


def channel_row(src: Source, code: str) -> dict[str, Any]:
    """The channel `code` with its endpoint (`url`, `subscriber_active`); UNKNOWN_CHANNEL."""
    rows = fetch_rows(
        src,
        "SELECT c.*, s.url, s.active AS subscriber_active, s.secret "
        "FROM channels c LEFT JOIN webhook_subscribers s ON s.id = c.subscriber_id "
        "WHERE c.code = ?",
        [code],
    )
    if not rows:
        raise AislewayError(ErrorCode.UNKNOWN_CHANNEL, details={"channel": code})
    return rows[0]


def _pct(buffer_bp: int) -> str:
    whole, cents = divmod(buffer_bp, 100)
    return f"{whole}.{cents:02d}".rstrip("0").rstrip(".") if cents else str(whole)


def channel_view(row: dict[str, Any]) -> dict[str, Any]:
    """A channel for the API: no secret, a hint of it."""
    secret = row.get("secret") or ""
    return {
        "code": row["code"],
        "name": row["name"],
        "kind": row["kind"],
        "active": bool(row["active"]),
        "endpoint_url": row["url"] if row.get("subscriber_active") else None,
        "signing_secret_hint": secret[:10] + "…" if row.get("subscriber_active") else None,
        "buffer_pct": _pct(row["buffer_bp"]),
        "buffer_units": row["buffer_units"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"] or row["created_at"],
        "reconciled_at": row["reconciled_at"],
    }


def list_channels(src: Source) -> list[dict[str, Any]]:
    rows = fetch_rows(
        src,
        "SELECT c.*, s.url, s.active AS subscriber_active, s.secret "
        "FROM channels c LEFT JOIN webhook_subscribers s ON s.id = c.subscriber_id "
        "ORDER BY c.code",
    )
    return [channel_view(r) for r in rows]


def mark_pending(
    w: SUDatabase, skus: list[str] | None = None, *, channel_id: int | None = None
) -> int:
    """Queue SKUs for the sync loop (the listed SKUs of `channel_id` when `skus` is None):
    each is pushed wherever its published value differs. Returns how many were queued."""
    now = "((julianday('now') - 2440587.5) * 86400.0)"
    if skus is None:
        cur = w.execute(
            "INSERT OR IGNORE INTO channel_sync_pending (sku, since) "
            f"SELECT sku, {now} FROM channel_skus WHERE channel_id = ? AND listed = 1",
            [channel_id],
        )
        return max(cur.rowcount, 0)
    count = 0
    for sku in skus:
        cur = w.execute(
            f"INSERT OR IGNORE INTO channel_sync_pending (sku, since) VALUES (?, {now})", [sku]
        )
        count += max(cur.rowcount, 0)
    return count


def put_channel(
    w: SUDatabase, code: str, body: ChannelIn, checked: CheckedUrl | None
) -> tuple[Literal["created", "updated", "unchanged"], str | None]:
    """Create or update channel `code`. `checked` is `body.endpoint_url` after the SSRF
    guard. Returns the outcome and the endpoint's signing secret when one was made now
    (the first endpoint; shown this once)."""
    now = iso()
    bp = int(body.buffer_pct * 100)
    found = fetch_rows(w, "SELECT * FROM channels WHERE code = ?", [code])
    if not found:
        w.execute(
            "INSERT INTO channels (code, kind, name, active, buffer_bp, buffer_units, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            [code, body.kind, body.name, int(body.active), bp, body.buffer_units, now, now],
        )
        stored = fetch_rows(w, "SELECT * FROM channels WHERE code = ?", [code])[0]
        outcome: Literal["created", "updated", "unchanged"] = "created"
    else:
        stored = found[0]
        new = (body.kind, body.name, int(body.active), bp, body.buffer_units)
        old = (
            stored["kind"],
            stored["name"],
            stored["active"],
            stored["buffer_bp"],
            stored["buffer_units"],
        )
        outcome = "unchanged"
        if new != old:
            w.execute(
                "UPDATE channels SET kind = ?, name = ?, active = ?, buffer_bp = ?, "
                "buffer_units = ?, updated_at = ? WHERE id = ?",
                [*new, now, stored["id"]],
            )
            outcome = "updated"
    secret, endpoint_changed = _set_endpoint(w, stored, checked, code)
    if endpoint_changed and outcome == "unchanged":
        w.execute("UPDATE channels SET updated_at = ? WHERE id = ?", [now, stored["id"]])
        outcome = "updated"
    if outcome != "unchanged":
        resumed = not stored["active"] and body.active
        if endpoint_changed or resumed:
            # A new endpoint has seen nothing, a resumed channel may have missed anything:
            # forget what was sent, so every listed SKU is pushed again.
            w.execute("DELETE FROM channel_published WHERE channel_id = ?", [stored["id"]])
        mark_pending(w, channel_id=stored["id"])
    return outcome, secret


def _set_endpoint(
    w: SUDatabase, stored: dict[str, Any], checked: CheckedUrl | None, code: str
) -> tuple[str | None, bool]:
    """Point the channel's subscriber at `checked` (creating it, with a new secret, if the
    channel has none active), or switch it off. Returns (new secret or None, changed)."""
    sub_id = stored["subscriber_id"]
    sub = (
        fetch_rows(w, "SELECT * FROM webhook_subscribers WHERE id = ?", [sub_id])[0]
        if sub_id is not None
        else None
    )
    active = sub is not None and bool(sub["active"])
    if checked is None:
        if not active:
            return None, False
        subscriptions.deactivate_subscriber(w, int(sub_id))
        return None, True
    if active and sub is not None:
        if sub["url"] == checked.url:
            return None, False
        w.execute("UPDATE webhook_subscribers SET url = ? WHERE id = ?", [checked.url, sub_id])
        return None, True
    view = subscriptions.create_subscriber(
        w, checked, [], description=f"channel {code}: inventory availability"
    )
    w.execute("UPDATE channels SET subscriber_id = ? WHERE id = ?", [view["id"], stored["id"]])
    return str(view["secret"]), True


def deactivate_channel(w: SUDatabase, code: str) -> Literal["deactivated", "unchanged"]:
    """Stop pushing to channel `code`. Pushes already queued are still delivered; PUT it
    with `active: true` to resume (every listed SKU is pushed again then)."""
    row = channel_row(w, code)
    if not row["active"]:
        return "unchanged"
    w.execute("UPDATE channels SET active = 0, updated_at = ? WHERE id = ?", [iso(), row["id"]])
    return "deactivated"


def rotate_channel_secret(w: SUDatabase, code: str) -> dict[str, Any]:
    """A new signing secret for the channel's endpoint; pushes carry a signature with the
    old one too for 24 hours. CHANNEL_NO_ENDPOINT when the channel has none."""
    row = channel_row(w, code)
    if not row["subscriber_active"]:
        raise AislewayError(ErrorCode.CHANNEL_NO_ENDPOINT, details={"channel": code})
    view = subscriptions.rotate_secret(w, int(row["subscriber_id"]))
    return {
        "signing_secret": view["secret"],
        "previous_secret_valid_until": view["previous_secret_valid_until"],
    }


# -- SKU mapping ------------------------------------------------------------------------
def put_channel_sku(
    w: SUDatabase, code: str, sku: str, body: ChannelSkuIn
) -> Literal["created", "updated", "unchanged"]:
    """List our `sku` on channel `code` as `body.channel_sku` (or keep it unlisted). A
    changed mapping is pushed again in full; CHANNEL_SKU_TAKEN if another of our SKUs holds
    that channel SKU on this channel."""
    row = channel_row(w, code)
    cid = row["id"]
    other = fetch_rows(
        w,
        "SELECT sku FROM channel_skus WHERE channel_id = ? AND channel_sku = ? AND sku != ?",
        [cid, body.channel_sku, sku],
    )
    if other:
        raise AislewayError(
            ErrorCode.CHANNEL_SKU_TAKEN,
            details={"channel": code, "channel_sku": body.channel_sku, "sku": other[0]["sku"]},
        )
    now = iso()
    found = fetch_rows(w, "SELECT * FROM channel_skus WHERE channel_id = ? AND sku = ?", [cid, sku])
    new = (body.channel_sku, body.listing_id, int(body.listed))
    if found and (found[0]["channel_sku"], found[0]["listing_id"], found[0]["listed"]) == new:
        return "unchanged"
    w.execute(
        "INSERT INTO channel_skus (channel_id, sku, channel_sku, listing_id, listed, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?) "
        "ON CONFLICT (channel_id, sku) DO UPDATE SET channel_sku = excluded.channel_sku, "
        "listing_id = excluded.listing_id, listed = excluded.listed, "
        "updated_at = excluded.updated_at",
        [cid, sku, *new, now, now],
    )
    # The channel knows this listing by its new name only now: push it in full next time.
    w.execute("DELETE FROM channel_published WHERE channel_id = ? AND sku = ?", [cid, sku])
    if body.listed:
        mark_pending(w, [sku])
    return "updated" if found else "created"


def remove_channel_sku(w: SUDatabase, code: str, sku: str) -> Literal["removed", "unchanged"]:
    """Forget the mapping: the SKU is no longer pushed to this channel."""
    row = channel_row(w, code)
    cur = w.execute("DELETE FROM channel_skus WHERE channel_id = ? AND sku = ?", [row["id"], sku])
    w.execute("DELETE FROM channel_published WHERE channel_id = ? AND sku = ?", [row["id"], sku])
    return "removed" if cur.rowcount else "unchanged"


def list_channel_skus(src: Source, code: str) -> list[dict[str, Any]]:
    """Every mapped SKU with what was last pushed and whether the channel acknowledged it
    (its endpoint answered 2xx to that push)."""
    row = channel_row(src, code)
    rows = fetch_rows(
        src,
        "SELECT m.sku, m.channel_sku, m.listing_id, m.listed, p.available, p.atp, "
        "p.event_id, p.published_at, d.status AS delivery "
        "FROM channel_skus m "
        "LEFT JOIN channel_published p ON p.channel_id = m.channel_id AND p.sku = m.sku "
        "LEFT JOIN outbox o ON o.event_id = p.event_id "
        "LEFT JOIN webhook_deliveries d ON d.outbox_id = o.id AND d.subscriber_id = ? "
        "WHERE m.channel_id = ? ORDER BY m.sku",
        [row["subscriber_id"], row["id"]],
    )
    return [
        {
            "sku": r["sku"],
            "channel_sku": r["channel_sku"],
            "listing_id": r["listing_id"],
            "listed": bool(r["listed"]),
            "published": None
            if r["event_id"] is None
            else {
                "available": r["available"],
                "atp": r["atp"],
                "at": r["published_at"],
                "event_id": r["event_id"],
                "acknowledged": r["delivery"] == "delivered",
                "delivery": r["delivery"],
            },
        }
        for r in rows
    ]
