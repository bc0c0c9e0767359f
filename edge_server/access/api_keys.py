"""API keys for integrations (the OMS, sales channels, EDI)."""

from __future__ import annotations

from dataclasses import dataclass

from edge_server.access.secrets import new_secret, sha256_hex
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

API_KEY_PREFIX = "awk"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    role: str


class ApiKeyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, role: str = "integration") -> tuple[ApiKey, str]:
        """Returns the key record and the secret, shown once."""
        secret = new_secret(API_KEY_PREFIX)
        with self.db.write() as w:
            cur = w.execute(
                "INSERT INTO api_keys (name, prefix, key_hash, role, created_at) "
                "VALUES (?,?,?,?,?)",
                [name, secret[:10], sha256_hex(secret), role, iso()],
            )
            key_id = int(cur.lastrowid or 0)
        return ApiKey(id=key_id, name=name, role=role), secret

    def identify(self, secret: str) -> ApiKey:
        row = self.db.query_one(
            "SELECT id, name, role FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            [sha256_hex(secret)],
        )
        if row is None:
            raise AislewayError(ErrorCode.API_KEY_INVALID)
        return ApiKey(id=row["id"], name=row["name"], role=row["role"])

    def revoke(self, key_id: int) -> bool:
        with self.db.write() as w:
            cur = w.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [iso(), key_id],
            )
            return cur.rowcount == 1
