"""Events out of the same transaction: `emit()` writes the outbox row and one pending delivery
per matching subscriber inside the caller's write transaction. The relay delivers them;
`events_after()` serves the same rows as a pull feed.

Because every write goes through one connection inside `BEGIN IMMEDIATE`, outbox ids are
handed out in commit order: a reader that has seen id N has seen every event before it, so
`after=N` is a cursor that never skips an event.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.timeutil import iso

__all__ = [
    "EVENT_TYPE_RE",
    "TEST_EVENT",
    "emit",
    "event_envelope",
    "events_after",
    "subscriber_wants",
    "valid_pattern",
]

#: `area.what` in lower case, e.g. `inventory.changed`, `shipment.created`.
EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.\*$")
#: Sent by `POST /webhooks/subscribers/{id}/test` to that subscriber only; not in the feed.
TEST_EVENT = "webhook.test"


def valid_pattern(pattern: str) -> bool:
    """`*`, an event type, or a prefix ending in `.*` (`inventory.*`)."""
    return pattern == "*" or bool(EVENT_TYPE_RE.match(pattern) or _PREFIX_RE.match(pattern))


def subscriber_wants(event_types: list[str], event_type: str) -> bool:
    """`*` matches all; `inventory.*` matches `inventory.changed`; else an exact name."""
    for pattern in event_types:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def emit(
    w: SUDatabase,
    event_type: str,
    payload: dict[str, Any],
    *,
    subscriber_ids: Iterable[int] | None = None,
) -> str:
    """Record an event; returns its id (the `webhook-id` receivers dedupe on).

    Call it inside the write transaction that makes the change: if that rolls back, the event
    never existed. `subscriber_ids` sends it to those active subscribers only, whatever their
    event types (used by the test event)."""
    if not EVENT_TYPE_RE.match(event_type):
        raise ValueError(f"event type {event_type!r} is not of the form area.what")
    event_id = f"evt_{uuid.uuid4().hex}"
    now = iso()
    cur = w.execute(
        "INSERT INTO outbox (event_id, type, payload_json, created_at) VALUES (?,?,?,?)",
        [event_id, event_type, json.dumps(payload, separators=(",", ":")), now],
    )
    outbox_id = cur.lastrowid
    only = None if subscriber_ids is None else set(subscriber_ids)
    for sub in w.execute(
        "SELECT id, event_types_json FROM webhook_subscribers WHERE active = 1"
    ).fetchall():
        wanted = (
            sub["id"] in only
            if only is not None
            else subscriber_wants(json.loads(sub["event_types_json"]), event_type)
        )
        if wanted:
            w.execute(
                "INSERT INTO webhook_deliveries (outbox_id, subscriber_id, next_attempt_at) "
                "VALUES (?,?,?)",
                [outbox_id, sub["id"], now],
            )
    return event_id


def event_envelope(
    event_id: str, event_type: str, created_at: str, payload_json: str
) -> dict[str, Any]:
    """The body of a webhook, and an entry of the pull feed."""
    return {
        "type": event_type,
        "id": event_id,
        "timestamp": created_at,
        "data": json.loads(payload_json),
    }


def events_after(db: Database, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Outbox events with `seq` > `after`, oldest first (the pull feed)."""
    rows = db.query(
        "SELECT id, event_id, type, payload_json, created_at FROM outbox "
        "WHERE id > ? AND type != ? ORDER BY id LIMIT ?",
        [after, TEST_EVENT, limit],
    )
    return [
        {
            "seq": r["id"],
            **event_envelope(r["event_id"], r["type"], r["created_at"], r["payload_json"]),
        }
        for r in rows
    ]
