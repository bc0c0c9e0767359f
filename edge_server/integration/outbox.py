"""Events out of the same transaction: `emit()` writes the outbox row and one pending delivery
per matching subscriber inside the caller's write transaction. The relay delivers them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.timeutil import iso


def subscriber_wants(event_types: list[str], event_type: str) -> bool:
    """`*` matches all; `inventory.*` matches `inventory.changed`; else an exact name."""
    for pattern in event_types:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def emit(w: SUDatabase, event_type: str, payload: dict[str, Any]) -> str:
    """Record an event; returns its id (the `webhook-id` receivers dedupe on)."""
    event_id = f"evt_{uuid.uuid4().hex}"
    now = iso()
    cur = w.execute(
        "INSERT INTO outbox (event_id, type, payload_json, created_at) VALUES (?,?,?,?)",
        [event_id, event_type, json.dumps(payload, separators=(",", ":")), now],
    )
    outbox_id = cur.lastrowid
    for sub in w.execute(
        "SELECT id, event_types_json FROM webhook_subscribers WHERE active = 1"
    ).fetchall():
        if subscriber_wants(json.loads(sub["event_types_json"]), event_type):
            w.execute(
                "INSERT INTO webhook_deliveries (outbox_id, subscriber_id, next_attempt_at) "
                "VALUES (?,?,?)",
                [outbox_id, sub["id"], now],
            )
    return event_id
