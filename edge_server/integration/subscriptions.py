"""Webhook subscribers and their deliveries: what an admin manages and an integrator watches.

Write functions take the caller's transaction (`w`); reads take the `Database`. The relay
itself lives in webhooks.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import TEST_EVENT, emit
from edge_server.integration.signing import SECRET_PREFIX, generate_secret
from edge_server.integration.url_guard import CheckedUrl
from edge_server.timeutil import iso, utcnow
from protocols.errors import ErrorCode

__all__ = [
    "DELIVERY_STATUSES",
    "ROTATION_GRACE_SECONDS",
    "create_subscriber",
    "deactivate_subscriber",
    "get_subscriber",
    "list_deliveries",
    "list_subscribers",
    "retry_delivery",
    "rotate_secret",
    "send_test_event",
]

DELIVERY_STATUSES = ("pending", "delivered", "failed")
#: After a rotation, deliveries carry a signature with the old secret too for this long.
ROTATION_GRACE_SECONDS = 24 * 3600


def _subscriber_view(row: dict[str, Any]) -> dict[str, Any]:
    until = row.get("previous_secret_until")
    rotating = bool(row.get("previous_secret")) and until is not None and until > iso()
    return {
        "id": row["id"],
        "url": row["url"],
        "event_types": json.loads(row["event_types_json"]),
        "description": row["description"],
        "active": bool(row["active"]),
        "created_at": row["created_at"],
        "deactivated_at": row["deactivated_at"],
        # Enough to tell secrets apart, never enough to use one.
        "secret_hint": row["secret"][: len(SECRET_PREFIX) + 4] + "…",
        "previous_secret_valid_until": until if rotating else None,
    }


def _subscriber_row(w: SUDatabase, subscriber_id: int) -> dict[str, Any]:
    row = w.execute("SELECT * FROM webhook_subscribers WHERE id = ?", [subscriber_id]).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.NOT_FOUND, details={"subscriber_id": subscriber_id})
    return dict(row)


def create_subscriber(
    w: SUDatabase, checked: CheckedUrl, event_types: list[str], description: str = ""
) -> dict[str, Any]:
    """A new active subscriber; the returned view carries its `secret`, shown this once.

    Takes a `CheckedUrl` so nobody can create a subscriber the SSRF guard has not seen."""
    secret = generate_secret()
    cur = w.execute(
        "INSERT INTO webhook_subscribers (url, secret, event_types_json, description, active, "
        "created_at) VALUES (?,?,?,?,1,?)",
        [checked.url, secret, json.dumps(event_types), description, iso()],
    )
    view = _subscriber_view(_subscriber_row(w, int(cur.lastrowid or 0)))
    return {**view, "secret": secret}


def get_subscriber(db: Database, subscriber_id: int) -> dict[str, Any]:
    row = db.query_one("SELECT * FROM webhook_subscribers WHERE id = ?", [subscriber_id])
    if row is None:
        raise AislewayError(ErrorCode.NOT_FOUND, details={"subscriber_id": subscriber_id})
    return _subscriber_view(row)


def list_subscribers(db: Database) -> list[dict[str, Any]]:
    return [_subscriber_view(r) for r in db.query("SELECT * FROM webhook_subscribers ORDER BY id")]


def deactivate_subscriber(w: SUDatabase, subscriber_id: int) -> dict[str, Any]:
    """Stop sending to a subscriber; its pending deliveries become `failed`. Idempotent."""
    row = _subscriber_row(w, subscriber_id)
    abandoned = 0
    if row["active"]:
        now = iso()
        w.execute(
            "UPDATE webhook_subscribers SET active = 0, deactivated_at = ? WHERE id = ?",
            [now, subscriber_id],
        )
        abandoned = w.execute(
            "UPDATE webhook_deliveries SET status = 'failed', last_error = ? "
            "WHERE subscriber_id = ? AND status = 'pending'",
            ["subscriber deactivated", subscriber_id],
        ).rowcount
    view = _subscriber_view(_subscriber_row(w, subscriber_id))
    return {**view, "abandoned_deliveries": abandoned}


def _require_active(row: dict[str, Any]) -> None:
    if not row["active"]:
        raise AislewayError(
            ErrorCode.WEBHOOK_SUBSCRIBER_INACTIVE, details={"subscriber_id": row["id"]}
        )


def rotate_secret(
    w: SUDatabase, subscriber_id: int, grace_seconds: int = ROTATION_GRACE_SECONDS
) -> dict[str, Any]:
    """A new secret; deliveries are signed with the old one as well until the grace ends."""
    row = _subscriber_row(w, subscriber_id)
    _require_active(row)
    secret = generate_secret()
    until = iso(utcnow() + timedelta(seconds=grace_seconds))
    w.execute(
        "UPDATE webhook_subscribers SET secret = ?, previous_secret = ?, "
        "previous_secret_until = ? WHERE id = ?",
        [secret, row["secret"], until, subscriber_id],
    )
    return {**_subscriber_view(_subscriber_row(w, subscriber_id)), "secret": secret}


def send_test_event(w: SUDatabase, subscriber_id: int) -> dict[str, Any]:
    """Queue a `webhook.test` event for this subscriber only."""
    row = _subscriber_row(w, subscriber_id)
    _require_active(row)
    event_id = emit(
        w,
        TEST_EVENT,
        {"subscriber_id": subscriber_id, "message": "Test event from Aisleway."},
        subscriber_ids=[subscriber_id],
    )
    delivery = w.execute(
        "SELECT d.id FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id "
        "WHERE o.event_id = ?",
        [event_id],
    ).fetchone()
    return {"event_id": event_id, "delivery_id": delivery["id"], "subscriber_id": subscriber_id}


_DELIVERY_SELECT = """
SELECT d.id, d.subscriber_id, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at,
       d.last_status_code, d.last_error, d.delivered_at,
       o.id AS seq, o.event_id, o.type AS event_type, o.created_at AS event_created_at
FROM webhook_deliveries d JOIN outbox o ON o.id = d.outbox_id
"""


def _delivery_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    if view["status"] != "pending":
        view["next_attempt_at"] = None  # nothing is scheduled for a finished delivery
    return view


def list_deliveries(
    db: Database,
    *,
    status: str | None = None,
    subscriber_id: int | None = None,
    event_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Deliveries, newest first; `before` (a delivery id) pages backwards."""
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("d.status = ?", status),
        ("d.subscriber_id = ?", subscriber_id),
        ("o.event_id = ?", event_id),
        ("d.id < ?", before),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = _DELIVERY_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    rows = db.query(sql + " ORDER BY d.id DESC LIMIT ?", [*params, limit])
    return [_delivery_view(r) for r in rows]


def retry_delivery(w: SUDatabase, delivery_id: int) -> dict[str, Any]:
    """Put a failed delivery back in its subscriber's queue with a fresh set of attempts."""
    row = w.execute(
        "SELECT d.status, s.id AS subscriber_id, s.active FROM webhook_deliveries d "
        "JOIN webhook_subscribers s ON s.id = d.subscriber_id WHERE d.id = ?",
        [delivery_id],
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.NOT_FOUND, details={"delivery_id": delivery_id})
    if row["status"] != "failed":
        raise AislewayError(
            ErrorCode.WEBHOOK_DELIVERY_NOT_FAILED,
            details={"delivery_id": delivery_id, "status": row["status"]},
        )
    _require_active({"id": row["subscriber_id"], "active": row["active"]})
    # attempts restarts at 0 so the retry gets the whole backoff schedule again; the last
    # error stays visible until the next attempt replaces it.
    w.execute(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ? "
        "WHERE id = ?",
        [iso(), delivery_id],
    )
    found = w.execute(_DELIVERY_SELECT + " WHERE d.id = ?", [delivery_id]).fetchone()
    return _delivery_view(dict(found))
