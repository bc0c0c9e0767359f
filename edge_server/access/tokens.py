"""Short-lived login tokens: HMAC-SHA256 signed, stateless, carrying user, role and device."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from edge_server.errors import AislewayError
from protocols.errors import ErrorCode

TOKEN_PREFIX = "awt1"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    role: str
    device_id: int | None
    issued_at: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: bytes, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def issue(
        self, *, user_id: int, role: str, device_id: int | None, now: float | None = None
    ) -> str:
        iat = int(now if now is not None else time.time())
        claims = {
            "u": user_id,
            "r": role,
            "d": device_id,
            "iat": iat,
            "exp": iat + self.ttl_seconds,
        }
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{TOKEN_PREFIX}.{body}.{self._sign(body)}"

    def verify(self, token: str, *, now: float | None = None) -> TokenClaims:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise AislewayError(ErrorCode.TOKEN_INVALID)
        _, body, sig = parts
        if not hmac.compare_digest(sig, self._sign(body)):
            raise AislewayError(ErrorCode.TOKEN_INVALID)
        try:
            raw = json.loads(_unb64(body))
            claims = TokenClaims(
                user_id=int(raw["u"]),
                role=str(raw["r"]),
                device_id=None if raw["d"] is None else int(raw["d"]),
                issued_at=int(raw["iat"]),
                expires_at=int(raw["exp"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise AislewayError(ErrorCode.TOKEN_INVALID) from exc
        if (now if now is not None else time.time()) >= claims.expires_at:
            raise AislewayError(ErrorCode.TOKEN_EXPIRED)
        return claims
