"""What handhelds report about their offline command queues: commands the edge refused when
they were replayed (kept for supervisors until acknowledged, and sent on as the
`terminal.command_rejected` event), and heartbeats with each handheld's queue depth.

The handheld side is `terminal/client/replay.py`; see docs/terminal-sync.md."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.outbox import emit
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

__all__ = [
    "COMMAND_REJECTED",
    "acknowledge",
    "device_queues",
    "heartbeat",
    "list_rejections",
    "record_rejection",
]

COMMAND_REJECTED = "terminal.command_rejected"

_COLUMNS = (
    "id, device_id, command_key, seq, workflow, method, path, body_json, code, text, "
    "details_json, http_status, scanned_at, scanned_by, reported_by, reported_at, "
    "acknowledged_at, acknowledged_by, note"
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row)
    data["body"] = json.loads(data.pop("body_json"))
    data["details"] = json.loads(data.pop("details_json"))
    data["key"] = data.pop("command_key")
    data["acknowledged"] = data["acknowledged_at"] is not None
    return data


def record_rejection(
    w: SUDatabase,
    *,
    site: str,
    device_id: int,
    reported_by: int | None,
    report: dict[str, Any],
) -> tuple[dict[str, Any], bool]:
    """Store one refused command (once per device and key) and emit its event in the same
    transaction. Returns the stored row and whether it was new."""
    if not str(report["key"]).startswith(f"{device_id}-"):
        # Keys are `{device_id}-...`: a handheld reports its own commands only.
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="This command key does not belong to this handheld.",
            details={"key": report["key"], "device_id": device_id},
        )
    scanned_by = report.get("user_id")
    if (
        scanned_by is not None
        and w.execute("SELECT 1 FROM users WHERE id = ?", [scanned_by]).fetchone() is None
    ):
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="The user who scanned this command is not known here.",
            details={"user_id": scanned_by},
        )
    existing = w.execute(
        f"SELECT {_COLUMNS} FROM terminal_rejections WHERE device_id = ? AND command_key = ?",
        [device_id, report["key"]],
    ).fetchone()
    if existing is not None:
        return _row(existing), False
    now = iso()
    cur = w.execute(
        "INSERT INTO terminal_rejections (device_id, command_key, seq, workflow, method, path, "
        "body_json, code, text, details_json, http_status, scanned_at, scanned_by, "
        "reported_by, reported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            device_id,
            report["key"],
            report["seq"],
            report.get("workflow", ""),
            report["method"],
            report["path"],
            json.dumps(report.get("body"), separators=(",", ":")),
            report["code"],
            report["text"],
            json.dumps(report.get("details") or {}, separators=(",", ":")),
            report.get("http_status"),
            report["scanned_at"],
            scanned_by,
            reported_by,
            now,
        ],
    )
    row = _row(
        w.execute(
            f"SELECT {_COLUMNS} FROM terminal_rejections WHERE id = ?", [cur.lastrowid]
        ).fetchone()
    )
    emit(
        w,
        COMMAND_REJECTED,
        {
            "site": site,
            "rejection_id": row["id"],
            "device_id": device_id,
            "seq": row["seq"],
            "key": row["key"],
            "workflow": row["workflow"],
            "method": row["method"],
            "path": row["path"],
            "code": row["code"],
            "text": row["text"],
            "scanned_at": row["scanned_at"],
            "scanned_by": scanned_by,
            "reported_at": now,
        },
    )
    return row, True


def list_rejections(
    db: Database,
    *,
    status: str = "open",
    device_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of reports, oldest first; `status` is open, acknowledged or all."""
    where: list[str] = []
    params: list[Any] = []
    if status == "open":
        where.append("acknowledged_at IS NULL")
    elif status == "acknowledged":
        where.append("acknowledged_at IS NOT NULL")
    if device_id is not None:
        where.append("device_id = ?")
        params.append(device_id)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = db.read.execute(f"SELECT COUNT(*) FROM terminal_rejections{clause}", params).fetchone()
    rows = db.read.execute(
        f"SELECT {_COLUMNS} FROM terminal_rejections{clause} ORDER BY id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return {
        "items": [_row(r) for r in rows],
        "total": int(total[0]),
        "limit": limit,
        "offset": offset,
    }


def acknowledge(
    w: SUDatabase, rejection_id: int, *, user_id: int | None, note: str = ""
) -> dict[str, Any]:
    """A supervisor has dealt with it. Acknowledging twice keeps the first acknowledgement."""
    w.execute(
        "UPDATE terminal_rejections SET acknowledged_at = ?, acknowledged_by = ?, note = ? "
        "WHERE id = ? AND acknowledged_at IS NULL",
        [iso(), user_id, note, rejection_id],
    )
    row = w.execute(
        f"SELECT {_COLUMNS} FROM terminal_rejections WHERE id = ?", [rejection_id]
    ).fetchone()
    if row is None:
        raise AislewayError(ErrorCode.TERMINAL_REJECTION_NOT_FOUND, details={"id": rejection_id})
    return _row(row)


def heartbeat(
    w: SUDatabase,
    *,
    device_id: int,
    user_id: int | None,
    pending: int,
    rejected: int,
    app_version: str,
) -> dict[str, Any]:
    """Record a handheld's queue depth and mark the device seen."""
    now = iso()
    w.execute(
        "INSERT INTO terminal_heartbeats (device_id, user_id, pending, rejected, app_version, "
        "seen_at) VALUES (?,?,?,?,?,?) ON CONFLICT (device_id) DO UPDATE SET "
        "user_id = excluded.user_id, pending = excluded.pending, "
        "rejected = excluded.rejected, app_version = excluded.app_version, "
        "seen_at = excluded.seen_at",
        [device_id, user_id, pending, rejected, app_version, now],
    )
    w.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?", [now, device_id])
    return {
        "device_id": device_id,
        "pending": pending,
        "rejected": rejected,
        "app_version": app_version,
        "seen_at": now,
    }


def device_queues(db: Database) -> list[dict[str, Any]]:
    """Every paired handheld with its last heartbeat and open refused commands."""
    return db.query(
        "SELECT d.id AS device_id, d.name, d.revoked_at, d.last_seen_at, h.user_id, "
        "h.pending, h.rejected, h.app_version, h.seen_at, "
        "(SELECT COUNT(*) FROM terminal_rejections r WHERE r.device_id = d.id "
        " AND r.acknowledged_at IS NULL) AS open_rejections "
        "FROM devices d LEFT JOIN terminal_heartbeats h ON h.device_id = d.id ORDER BY d.id"
    )
