"""Handheld enrollment: a supervisor makes a pairing code; a terminal trades it once for a
device credential it sends with every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from edge_server.access.secrets import (
    new_pairing_code,
    new_secret,
    normalise_pairing_code,
    sha256_hex,
)
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from protocols.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class PairingCode:
    code: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class PairedDevice:
    device_id: int
    name: str
    secret: str


class DeviceService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create_pairing_code(self, created_by: int | None = None) -> PairingCode:
        code = new_pairing_code()
        expires = iso(utcnow() + timedelta(seconds=self.settings.pairing_code_ttl_seconds))
        with self.db.write() as w:
            w.execute(
                "INSERT INTO pairing_codes (code_hash, created_by, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                [sha256_hex(normalise_pairing_code(code)), created_by, iso(), expires],
            )
        return PairingCode(code=code, expires_at=expires)

    def pair(self, code: str, name: str) -> PairedDevice:
        code_hash = sha256_hex(normalise_pairing_code(code))
        secret = new_secret("awd")
        now = iso()
        with self.db.write() as w:
            row = w.execute(
                "SELECT id, created_by, expires_at, used_at FROM pairing_codes WHERE code_hash = ?",
                [code_hash],
            ).fetchone()
            if row is None or row["used_at"] or parse_iso(row["expires_at"]) <= utcnow():
                raise AislewayError(ErrorCode.PAIRING_CODE_INVALID)
            cur = w.execute(
                "INSERT INTO devices (name, secret_hash, paired_at, paired_by) VALUES (?,?,?,?)",
                [name[:64], sha256_hex(secret), now, row["created_by"]],
            )
            device_id = int(cur.lastrowid or 0)
            w.execute(
                "UPDATE pairing_codes SET used_at = ?, device_id = ? WHERE id = ?",
                [now, device_id, row["id"]],
            )
        return PairedDevice(device_id=device_id, name=name, secret=secret)

    def identify(self, secret: str) -> int:
        """The device id for a credential, or DEVICE_UNKNOWN."""
        row = self.db.query_one(
            "SELECT id FROM devices WHERE secret_hash = ? AND revoked_at IS NULL",
            [sha256_hex(secret)],
        )
        if row is None:
            raise AislewayError(ErrorCode.DEVICE_UNKNOWN)
        return int(row["id"])

    def revoke(self, device_id: int) -> bool:
        with self.db.write() as w:
            cur = w.execute(
                "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                [iso(), device_id],
            )
            return cur.rowcount == 1

    def list(self) -> list[dict[str, object]]:
        return self.db.query(
            "SELECT id, name, paired_at, last_seen_at, revoked_at FROM devices ORDER BY id"
        )
