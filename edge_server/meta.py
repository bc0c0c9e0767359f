"""Small site-wide values kept in the `meta` table (token secret, site code)."""

from __future__ import annotations

import secrets

from edge_server.db import Database


def get_or_create(db: Database, key: str, make: str) -> str:
    row = db.query_one("SELECT value FROM meta WHERE key = ?", [key])
    if row is not None:
        return str(row["value"])
    with db.write() as w:
        w.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [key, make])
        value = w.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()[0]
    return str(value)


def token_secret(db: Database) -> bytes:
    return bytes.fromhex(get_or_create(db, "token_secret", secrets.token_hex(32)))
