"""API keys for integrations (the OMS, sales channels, EDI) and, on a site, for 3PL clients
(role `client`, bound to one client: docs/clients.md)."""

from __future__ import annotations

from dataclasses import dataclass

from edge_server.access.secrets import new_secret, sha256_hex
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.timeutil import iso
from protocols.errors import ErrorCode

API_KEY_PREFIX = "awk"


CLIENT_ROLE = "client"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    role: str
    client: str | None = None  # the client's code, for role `client`


class ApiKeyService:
    """`clients=True` on a site (its `api_keys` may belong to a client); the OMS has none."""

    def __init__(self, db: Database, *, clients: bool = False) -> None:
        self.db = db
        self.clients = clients

    def create(
        self, name: str, role: str = "integration", *, client: str | None = None
    ) -> tuple[ApiKey, str]:
        """Returns the key record and the secret, shown once. A `client` key names its client
        (an active one); no other key may."""
        if (role == CLIENT_ROLE) != (client is not None) or (client and not self.clients):
            raise AislewayError(ErrorCode.CLIENT_KEY_NEEDS_CLIENT, details={"role": role})
        secret = new_secret(API_KEY_PREFIX)
        with self.db.write() as w:
            columns = ["name", "prefix", "key_hash", "role", "created_at"]
            values: list[object] = [name, secret[:10], sha256_hex(secret), role, iso()]
            if client is not None:
                from edge_server.wms.clients import client_id_of

                columns.append("client_id")
                values.append(client_id_of(w, client))
            cur = w.execute(
                f"INSERT INTO api_keys ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                values,
            )
            key_id = int(cur.lastrowid or 0)
        return ApiKey(id=key_id, name=name, role=role, client=client), secret

    def identify(self, secret: str) -> ApiKey:
        if self.clients:  # a client's key works only while its client is active
            sql = (
                "SELECT k.id, k.name, k.role, c.code AS client FROM api_keys k "
                "LEFT JOIN clients c ON c.id = k.client_id "
                "WHERE k.key_hash = ? AND k.revoked_at IS NULL "
                "AND (k.client_id IS NULL OR c.active = 1)"
            )
        else:
            sql = (
                "SELECT id, name, role, NULL AS client FROM api_keys "
                "WHERE key_hash = ? AND revoked_at IS NULL"
            )
        row = self.db.query_one(sql, [sha256_hex(secret)])
        if row is None:
            raise AislewayError(ErrorCode.API_KEY_INVALID)
        return ApiKey(id=row["id"], name=row["name"], role=row["role"], client=row["client"])

    def revoke(self, key_id: int) -> bool:
        with self.db.write() as w:
            cur = w.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [iso(), key_id],
            )
            return cur.rowcount == 1
