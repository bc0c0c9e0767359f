"""Exactly-once effects: the key, the request's hash and the response are stored in the same
transaction as the effect. A replay returns the first response; the same key with another
request is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database as SUDatabase

from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

MAX_KEY_LENGTH = 200


def request_hash(method: str, path: str, payload: Any) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


Effect = Callable[[SUDatabase], tuple[int, dict[str, Any]]]


def idempotent_command(
    *, principal: str, key: str | None, method: str, path: str, payload: Any, effect: Effect
) -> Effect:
    """The command as the writer runs it (`Database.run_write` / `run_write_async`): the
    stored answer for a replay, else `effect` and its answer stored with it (same
    transaction). Refuses a missing or unusable key at once."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise AislewayError(ErrorCode.IDEMPOTENCY_KEY_REQUIRED)
    digest = request_hash(method, path, payload)

    def once(w: SUDatabase) -> tuple[int, dict[str, Any]]:
        row = w.execute(
            "SELECT request_hash, status_code, response_json FROM idempotency "
            "WHERE principal = ? AND key = ?",
            [principal, key],
        ).fetchone()
        if row is not None:
            if row["request_hash"] != digest:
                raise AislewayError(ErrorCode.IDEMPOTENCY_KEY_REUSED, details={"key": key})
            return int(row["status_code"]), json.loads(row["response_json"])
        status, body = effect(w)
        w.execute(
            "INSERT INTO idempotency (principal, key, method, path, request_hash, status_code, "
            "response_json, created_at) VALUES (?,?,?,?,?,?,?,?)",
            [principal, key, method, path, digest, status, json.dumps(body), iso()],
        )
        return status, body

    return once


def run_idempotent(
    db: Database,
    *,
    principal: str,
    key: str | None,
    method: str,
    path: str,
    payload: Any,
    effect: Effect,
) -> tuple[int, dict[str, Any]]:
    """Run `effect` once per (principal, key). Errors raised by `effect` roll back and are not
    stored, so a retry after a refusal is evaluated afresh. The answer comes back only after
    the transaction holding the effect has committed (group commit: it may share it)."""
    command = idempotent_command(
        principal=principal, key=key, method=method, path=path, payload=payload, effect=effect
    )
    return db.run_write(command)
