"""Users with badge and PIN; login with lockout after repeated wrong PINs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from edge_server.access.secrets import PinHasher
from edge_server.db import Database
from edge_server.db.migrations import ROLES
from edge_server.errors import AislewayError
from edge_server.settings import Settings
from edge_server.timeutil import iso, parse_iso, utcnow
from protocols.errors import ErrorCode

PIN_RE = re.compile(r"^[0-9]{4,8}$")
BADGE_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
HANDHELD_ROLES = frozenset({"picker", "receiver", "counter", "packer"})


@dataclass(frozen=True, slots=True)
class User:
    id: int
    badge: str
    name: str
    role: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(id=row["id"], badge=row["badge"], name=row["name"], role=row["role"])


def validate_new_user(badge: str, pin: str, role: str) -> None:
    problems: dict[str, str] = {}
    if not BADGE_RE.match(badge):
        problems["badge"] = "3 to 32 letters, digits, '-' or '_'"
    if not PIN_RE.match(pin):
        problems["pin"] = "4 to 8 digits"
    if role not in ROLES:
        problems["role"] = f"one of {', '.join(ROLES)}"
    if problems:
        raise AislewayError(ErrorCode.VALIDATION_FAILED, details={"fields": problems})


class UserService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.hasher = PinHasher(settings)

    def create(self, *, badge: str, pin: str, role: str, name: str = "") -> User:
        validate_new_user(badge, pin, role)
        pin_hash = self.hasher.hash(pin)  # slow: outside the write lock
        with self.db.write() as w:
            if w.execute("SELECT 1 FROM users WHERE badge = ?", [badge]).fetchone():
                raise AislewayError(ErrorCode.USER_EXISTS, details={"badge": badge})
            cur = w.execute(
                "INSERT INTO users (badge, name, role, pin_hash, created_at) VALUES (?,?,?,?,?)",
                [badge, name, role, pin_hash, iso()],
            )
            user_id = int(cur.lastrowid or 0)
        return User(id=user_id, badge=badge, name=name, role=role)

    def get(self, user_id: int) -> User | None:
        row = self.db.query_one("SELECT * FROM users WHERE id = ? AND active = 1", [user_id])
        return User.from_row(row) if row else None

    def list(self) -> list[User]:
        return [User.from_row(r) for r in self.db.query("SELECT * FROM users ORDER BY badge")]

    def authenticate(self, badge: str, pin: str) -> User:
        """Check badge + PIN. Wrong PINs count towards a lockout; a lockout refuses even the
        right PIN until it ends. The unknown-badge answer is the same as a wrong PIN."""
        row = self.db.query_one("SELECT * FROM users WHERE badge = ?", [badge])
        if row is None or not row["active"]:
            # Spend the same time as a real check so badges can't be probed by timing.
            self.hasher.verify(self._dummy_hash, pin)
            raise AislewayError(ErrorCode.BAD_CREDENTIALS)
        now = utcnow()
        if row["locked_until"] and parse_iso(row["locked_until"]) > now:
            raise AislewayError(ErrorCode.LOCKED_OUT, details={"locked_until": row["locked_until"]})
        ok = self.hasher.verify(row["pin_hash"], pin)
        with self.db.write() as w:
            if ok:
                w.execute(
                    "UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?",
                    [row["id"]],
                )
            else:
                attempts = int(
                    w.execute(
                        "UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = ? "
                        "RETURNING failed_attempts",
                        [row["id"]],
                    ).fetchone()[0]
                )
                if attempts >= self.settings.pin_max_attempts:
                    until = iso(now + timedelta(seconds=self.settings.pin_lockout_seconds))
                    w.execute(
                        "UPDATE users SET locked_until = ?, failed_attempts = 0 WHERE id = ?",
                        [until, row["id"]],
                    )
        if not ok:
            raise AislewayError(ErrorCode.BAD_CREDENTIALS)
        return User.from_row(row)

    @property
    def _dummy_hash(self) -> str:
        cached: str | None = getattr(self, "_dummy", None)
        if cached is None:
            cached = self.hasher.hash("00000000")
            self._dummy = cached
        return cached
