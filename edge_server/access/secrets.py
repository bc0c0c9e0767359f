"""Hashing of PINs (Argon2id, slow on purpose) and of random secrets (SHA-256, fast).

Random device secrets, pairing codes and API keys carry enough entropy that a fast hash is
safe and lets every request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from edge_server.settings import Settings


class PinHasher:
    def __init__(self, settings: Settings) -> None:
        self._ph = PasswordHasher(
            time_cost=settings.pin_hash_time_cost,
            memory_cost=settings.pin_hash_memory_kib,
            parallelism=1,
        )

    def hash(self, pin: str) -> str:
        return self._ph.hash(pin)

    def verify(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._ph.verify(pin_hash, pin)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_secret(prefix: str, nbytes: int = 32) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


# No 0/O, 1/I/L: codes are read off a screen and typed on a handheld.
_PAIRING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_pairing_code() -> str:
    raw = "".join(secrets.choice(_PAIRING_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_pairing_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())
