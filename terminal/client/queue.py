"""The handheld's durable command queue (SQLite, no Kivy).

A workflow calls `enqueue` for every confirmed scan BEFORE the screen says "good": the row is on
disk (WAL, synchronous=FULL, committed) when `enqueue` returns. Each command carries the device
id, a per-device increasing `seq`, an idempotency key made from both, the user who scanned, the
scan time and the workflow that made it. The replayer (replay.py) sends pending commands
strictly in `seq` order; each ends `applied` (the server's envelope stored) or `rejected` (the
server's refusal stored, reported to the supervisor, shown until acknowledged). Nothing is ever
deleted by the queue itself.

References: a value in a body may be `Ref(seq, "data.scan_item.session_id")`, a path into the
envelope an EARLIER command will get back (a receiving session id, a picking task id). It is
resolved just before sending. If the source command was rejected, or its answer lacks the
path, the dependent command is rejected too with `QUEUE_DEPENDS_ON_REJECTED` /
`QUEUE_REF_MISSING` (and reported like any refusal).

Thread-safe: one connection guarded by one lock; listeners are called after each change
(outside the lock, from the calling thread).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from protocols.errors import ErrorCode, message_for

__all__ = [
    "Command",
    "CommandQueue",
    "QueueListener",
    "Ref",
    "Status",
    "UnresolvedRef",
    "plain",
]


class Status(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Ref:
    """A value taken from an earlier command's stored response, at replay time.

    `path` is dot-separated into the envelope: keys for objects, integers for list indexes,
    e.g. "data.scan_item.session_id" or "data.lines.0.id"."""

    seq: int
    path: str


@dataclass(frozen=True, slots=True)
class Command:
    seq: int
    key: str  # the Idempotency-Key sent with every attempt
    device_id: int
    method: str
    path: str  # relative to the API base, e.g. "/inventory/moves"
    body: Any  # JSON value; may contain Ref objects
    workflow: str
    user_id: int | None  # who scanned (the replay is sent with that user's login)
    scanned_at: datetime  # UTC
    created_at: datetime  # UTC, when it was queued
    status: Status
    attempts: int = 0
    last_error: str | None = None  # why the last attempt did not finish (offline, 5xx, ...)
    http_status: int | None = None  # the status of the final answer (applied or rejected)
    response: dict[str, Any] | None = None  # the server's envelope (applied and rejected)
    error_code: str | None = None  # rejected: the refusal's code
    error_text: str | None = None  # rejected: the sentence to show
    error_details: dict[str, Any] = field(default_factory=dict)
    decided_at: datetime | None = None
    reported: bool = False  # rejected: the edge has our report (POST /devices/me/rejections)
    acknowledged: bool = False  # rejected: a user on the handheld has seen it


class UnresolvedRef(Exception):
    """A Ref in a command's body cannot be resolved (its source was rejected or lacks the
    value): the command is rejected with `code` and `text`."""

    def __init__(self, code: str, text: str, details: dict[str, Any]) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.details = details


QueueListener = Callable[["CommandQueue"], None]


class CommandQueue:
    """The durable queue in the SQLite file `path` for device `device_id`.

    Keys are `{device_id}-{queue_id}-{seq}`: `queue_id` is random, made when the file is
    created, so a handheld whose queue file was lost and recreated (seq starting at 1 again)
    can never hit the edge's stored answer for an old command with a new one."""

    def __init__(self, path: str | Path, device_id: int) -> None:
        self.path = Path(path)
        self.device_id = int(device_id)
        self._lock = threading.RLock()
        self._listeners: list[QueueListener] = []
        self._user_id: int | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection for every thread, serialised by self._lock; autocommit mode so each
        # write is an explicit BEGIN IMMEDIATE ... COMMIT.
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a COMMIT is on disk when it returns, so "enqueued" survives a power cut.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            with self._write() as c:
                for statement in _SCHEMA:
                    c.execute(statement)
                row = c.execute("SELECT value FROM meta WHERE key = 'queue_id'").fetchone()
                if row is None:
                    c.execute(
                        "INSERT INTO meta (key, value) VALUES ('queue_id', ?)",
                        [secrets.token_hex(4)],
                    )
                other = c.execute(
                    "SELECT COUNT(*) FROM commands WHERE device_id != ? AND "
                    "(status = 'pending' OR (status = 'rejected' AND reported = 0))",
                    [self.device_id],
                ).fetchone()[0]
            if other:
                raise ValueError(
                    f"{self.path} holds {other} unsent command(s) of another device; "
                    "replay them before pairing this handheld again"
                )
            self.queue_id = str(
                self._conn.execute("SELECT value FROM meta WHERE key = 'queue_id'").fetchone()[0]
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    # -- for workflows -------------------------------------------------------------------
    def enqueue(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        workflow: str,
        scanned_at: datetime | None = None,
        user_id: int | None = None,
    ) -> Command:
        """Store a command durably (committed, fsynced) and return it.

        `user_id` defaults to the user set by `set_user` (the logged-in user). Refs must point
        to earlier commands of this queue. Raises ValueError for a bad method/path/body."""
        method = method.upper()
        if method not in _METHODS:
            raise ValueError(f"method must be one of {sorted(_METHODS)}, not {method!r}")
        if not path.startswith("/") or not path.isprintable() or " " in path:
            raise ValueError(f"path must start with '/' and hold no spaces: {path!r}")
        if not workflow:
            raise ValueError("workflow is required")
        when = scanned_at if scanned_at is not None else datetime.now(UTC)
        if when.tzinfo is None:
            raise ValueError("scanned_at must carry a time zone (UTC)")
        refs: list[Ref] = []
        try:
            body_json = json.dumps(_encode(body, refs), separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"body is not JSON: {exc}") from exc
        with self._write() as c:
            seq = int(c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM commands").fetchone()[0])
            for ref in refs:
                if ref.seq >= seq or ref.seq < 1:
                    raise ValueError(f"Ref({ref.seq}) must point to an earlier command")
                if c.execute("SELECT 1 FROM commands WHERE seq = ?", [ref.seq]).fetchone() is None:
                    raise ValueError(f"Ref({ref.seq}) points to no command in this queue")
            uid = user_id if user_id is not None else self._user_id
            c.execute(
                "INSERT INTO commands (seq, key, device_id, method, path, body_json, workflow, "
                "user_id, scanned_at, created_at, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    seq,
                    f"{self.device_id}-{self.queue_id}-{seq}",
                    self.device_id,
                    method,
                    path,
                    body_json,
                    workflow,
                    uid,
                    _iso(when),
                    _iso(datetime.now(UTC)),
                    Status.PENDING.value,
                ],
            )
            row = c.execute("SELECT * FROM commands WHERE seq = ?", [seq]).fetchone()
        self._changed()
        return _command(row)

    def set_user(self, user_id: int | None) -> None:
        """The user new commands are stamped with (set at login, None at logout)."""
        self._user_id = user_id

    @property
    def user_id(self) -> int | None:
        return self._user_id

    def get(self, seq: int) -> Command | None:
        row = self._one("SELECT * FROM commands WHERE seq = ?", [seq])
        return _command(row) if row is not None else None

    def result(self, seq: int) -> dict[str, Any] | None:
        """The envelope the server returned for an applied command (None otherwise)."""
        command = self.get(seq)
        if command is None or command.status is not Status.APPLIED:
            return None
        return command.response

    def pending(self) -> list[Command]:
        return self._many("SELECT * FROM commands WHERE status = 'pending' ORDER BY seq")

    def pending_count(self) -> int:
        return self._count("SELECT COUNT(*) FROM commands WHERE status = 'pending'")

    def rejected(self, *, include_acknowledged: bool = False) -> list[Command]:
        """Commands the server refused, oldest first (unacknowledged ones by default)."""
        extra = "" if include_acknowledged else " AND acknowledged = 0"
        return self._many(f"SELECT * FROM commands WHERE status = 'rejected'{extra} ORDER BY seq")

    def rejected_count(self) -> int:
        """Rejected commands not yet acknowledged on the handheld."""
        return self._count(
            "SELECT COUNT(*) FROM commands WHERE status = 'rejected' AND acknowledged = 0"
        )

    def acknowledge(self, seq: int) -> None:
        """The user has seen this rejection (it stays in the queue; reporting is unaffected).
        Raises KeyError if `seq` is not a rejected command."""
        with self._write() as c:
            cur = c.execute(
                "UPDATE commands SET acknowledged = 1 WHERE seq = ? AND status = 'rejected'",
                [seq],
            )
            if cur.rowcount != 1:
                raise KeyError(f"no rejected command {seq}")
        self._changed()

    def commands(self, *, after_seq: int = 0, limit: int = 1000) -> list[Command]:
        """All commands in seq order (for a history screen and for tests)."""
        return self._many(
            "SELECT * FROM commands WHERE seq > ? ORDER BY seq LIMIT ?", [after_seq, limit]
        )

    def add_listener(self, listener: QueueListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: QueueListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- for the replayer ----------------------------------------------------------------
    def next_pending(self) -> Command | None:
        """The pending command with the lowest seq."""
        row = self._one("SELECT * FROM commands WHERE status = 'pending' ORDER BY seq LIMIT 1")
        return _command(row) if row is not None else None

    def resolve(self, command: Command) -> Any:
        """`command.body` with every Ref replaced; raises UnresolvedRef."""
        return _resolve(command.body, command.seq, self)

    def note_attempt(self, seq: int, error: str | None) -> None:
        with self._write() as c:
            c.execute(
                "UPDATE commands SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                [error, seq],
            )

    def mark_applied(self, seq: int, status: int, response: dict[str, Any]) -> None:
        with self._write() as c:
            cur = c.execute(
                "UPDATE commands SET status = 'applied', attempts = attempts + 1, "
                "last_error = NULL, http_status = ?, response_json = ?, decided_at = ? "
                "WHERE seq = ? AND status = 'pending'",
                [status, json.dumps(response), _iso(datetime.now(UTC)), seq],
            )
            if cur.rowcount != 1:
                raise KeyError(f"no pending command {seq}")
        self._changed()

    def mark_rejected(
        self,
        seq: int,
        *,
        code: str,
        text: str,
        details: dict[str, Any] | None = None,
        status: int | None = None,
        response: dict[str, Any] | None = None,
    ) -> None:
        with self._write() as c:
            cur = c.execute(
                "UPDATE commands SET status = 'rejected', attempts = attempts + ?, "
                "last_error = NULL, http_status = ?, response_json = ?, error_code = ?, "
                "error_text = ?, error_details_json = ?, decided_at = ? "
                "WHERE seq = ? AND status = 'pending'",
                [
                    1 if status is not None else 0,
                    status,
                    json.dumps(response) if response is not None else None,
                    code,
                    text,
                    json.dumps(details or {}),
                    _iso(datetime.now(UTC)),
                    seq,
                ],
            )
            if cur.rowcount != 1:
                raise KeyError(f"no pending command {seq}")
        self._changed()

    def unreported(self) -> list[Command]:
        """Rejected commands the edge does not have a report of yet, oldest first."""
        return self._many(
            "SELECT * FROM commands WHERE status = 'rejected' AND reported = 0 ORDER BY seq"
        )

    def mark_reported(self, seq: int) -> None:
        with self._write() as c:
            c.execute("UPDATE commands SET reported = 1 WHERE seq = ?", [seq])
        self._changed()

    # -- logins kept for replay ----------------------------------------------------------
    def save_token(self, user_id: int, token: str, expires_at: float) -> None:
        """Keep a user's login so their queued commands replay as them after logout/restart.

        It sits next to the commands it will send (same file, same protection as the queue);
        it is the same token the user's session already holds and it expires by itself."""
        with self._write() as c:
            c.execute(
                "INSERT INTO logins (user_id, token, expires_at) VALUES (?,?,?) "
                "ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, "
                "expires_at = excluded.expires_at",
                [user_id, token, expires_at],
            )
        self._changed()

    def token_for(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        row = self._one("SELECT token FROM logins WHERE user_id = ?", [user_id])
        return str(row["token"]) if row is not None else None

    def forget_token(self, user_id: int) -> None:
        with self._write() as c:
            c.execute("DELETE FROM logins WHERE user_id = ?", [user_id])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- internals -----------------------------------------------------------------------
    def _one(self, sql: str, params: list[Any] | None = None) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params or []).fetchone()
            return row

    def _many(self, sql: str, params: list[Any] | None = None) -> list[Command]:
        with self._lock:
            rows = self._conn.execute(sql, params or []).fetchall()
        return [_command(r) for r in rows]

    def _count(self, sql: str) -> int:
        with self._lock:
            return int(self._conn.execute(sql).fetchone()[0])


_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS commands (
        seq INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        device_id INTEGER NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        body_json TEXT NOT NULL,
        workflow TEXT NOT NULL,
        user_id INTEGER,
        scanned_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'rejected')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        http_status INTEGER,
        response_json TEXT,
        error_code TEXT,
        error_text TEXT,
        error_details_json TEXT,
        decided_at TEXT,
        reported INTEGER NOT NULL DEFAULT 0,
        acknowledged INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS commands_status ON commands (status, seq)",
    """CREATE TABLE IF NOT EXISTS logins (
        user_id INTEGER PRIMARY KEY, token TEXT NOT NULL, expires_at REAL NOT NULL
    )""",
]

_REF_KEY = "$ref"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _encode(value: Any, refs: list[Ref]) -> Any:
    """JSON-ready body: Ref → {"$ref": {"seq": n, "path": p}}."""
    if isinstance(value, Ref):
        if not isinstance(value.seq, int) or not value.path:
            raise ValueError(f"bad reference {value!r}")
        refs.append(value)
        return {_REF_KEY: {"seq": value.seq, "path": value.path}}
    if isinstance(value, dict):
        if _REF_KEY in value:
            raise ValueError(f"{_REF_KEY!r} is reserved for references in queued bodies")
        return {str(k): _encode(v, refs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v, refs) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_REF_KEY}:
            ref = value[_REF_KEY]
            return Ref(seq=int(ref["seq"]), path=str(ref["path"]))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _lookup(envelope: Any, path: str) -> Any:
    current = envelope
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                raise LookupError(path)
            current = current[index]
        else:
            raise LookupError(path)
    return current


def _unresolved(code: ErrorCode, **details: Any) -> UnresolvedRef:
    return UnresolvedRef(code.value, message_for(code).text, details)


def _resolve(value: Any, seq: int, queue: CommandQueue) -> Any:
    if isinstance(value, Ref):
        source = queue.get(value.seq)
        details = {"ref_seq": value.seq, "ref_path": value.path}
        if source is None:
            raise _unresolved(ErrorCode.QUEUE_REF_MISSING, **details)
        if source.status is Status.REJECTED:
            raise _unresolved(
                ErrorCode.QUEUE_DEPENDS_ON_REJECTED, **details, ref_code=source.error_code
            )
        if source.status is not Status.APPLIED:
            # Cannot happen when replaying in seq order (Refs point backwards).
            raise RuntimeError(f"command {seq} replayed before its source {value.seq}")
        try:
            return _lookup(source.response, value.path)
        except LookupError:
            raise _unresolved(ErrorCode.QUEUE_REF_MISSING, **details) from None
    if isinstance(value, dict):
        return {k: _resolve(v, seq, queue) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, seq, queue) for v in value]
    return value


def _load(text: str | None) -> Any:
    return json.loads(text) if text else None


def _command(row: sqlite3.Row) -> Command:
    decided = row["decided_at"]
    return Command(
        seq=int(row["seq"]),
        key=str(row["key"]),
        device_id=int(row["device_id"]),
        method=str(row["method"]),
        path=str(row["path"]),
        body=_decode(json.loads(row["body_json"])),
        workflow=str(row["workflow"]),
        user_id=None if row["user_id"] is None else int(row["user_id"]),
        scanned_at=datetime.fromisoformat(row["scanned_at"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        status=Status(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        http_status=row["http_status"],
        response=_load(row["response_json"]),
        error_code=row["error_code"],
        error_text=row["error_text"],
        error_details=_load(row["error_details_json"]) or {},
        decided_at=datetime.fromisoformat(decided) if decided else None,
        reported=bool(row["reported"]),
        acknowledged=bool(row["acknowledged"]),
    )


def plain(body: Any) -> Any:
    """`body` as JSON, Refs written as {"$ref": {"seq": n, "path": p}} (for reports)."""
    return _encode(body, [])
