"""Standard Webhooks signatures (https://www.standardwebhooks.com/), both sides.

A message is signed as `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` where `key`
is the base64-decoded part of a `whsec_…` secret. The three headers are `webhook-id`,
`webhook-timestamp` (unix seconds) and `webhook-signature` (one or more space-separated
signatures, so a sender can sign with an old and a new secret while a secret is rotated).

The relay signs with it; the OMS verifies incoming webhooks with it. No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "SECRET_PREFIX",
    "SignatureError",
    "decode_secret",
    "generate_secret",
    "sign",
    "signed_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"
#: How far a `webhook-timestamp` may be from the receiver's clock (either way).
DEFAULT_TOLERANCE_SECONDS = 5 * 60
SECRET_BYTES = 32  # the spec asks for 24-64 random bytes

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


class SignatureError(ValueError):
    """The message cannot be trusted; the text says why (safe to log, never to echo back)."""


def generate_secret() -> str:
    """A fresh `whsec_<base64>` secret with 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def decode_secret(secret: str | bytes) -> bytes:
    """The HMAC key: raw bytes pass through, `whsec_<base64>` (or bare base64) is decoded."""
    if isinstance(secret, bytes):
        key = secret
    else:
        text = secret.removeprefix(SECRET_PREFIX)
        try:
            # Unpadded base64 is accepted like the reference libraries do.
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("webhook secret is not valid base64") from exc
    if not key:
        raise SignatureError("webhook secret is empty")
    return key


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def _secret_list(secret: str | bytes | Sequence[str | bytes]) -> list[str | bytes]:
    if isinstance(secret, str | bytes):
        return [secret]
    return list(secret)


def sign(
    secret: str | bytes | Sequence[str | bytes], msg_id: str, timestamp: int, body: bytes | str
) -> str:
    """The `webhook-signature` value: one `v1,<sig>` per secret, space-separated."""
    data = _as_bytes(body)
    parts = []
    for one in _secret_list(secret):
        digest = _digest(decode_secret(one), msg_id, int(timestamp), data)
        parts.append("v1," + base64.b64encode(digest).decode("ascii"))
    if not parts:
        raise SignatureError("no secret to sign with")
    return " ".join(parts)


def signed_headers(
    secret: str | bytes | Sequence[str | bytes],
    msg_id: str,
    body: bytes | str,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` (timestamp defaults to now)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(ts),
        HEADER_SIGNATURE: sign(secret, msg_id, ts, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise SignatureError(f"missing {name} header")


def verify(
    secret: str | bytes | Sequence[str | bytes],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Check a received webhook; returns its `webhook-id` or raises `SignatureError`.

    `secret` may be several secrets (a receiver in the middle of a rotation); any `v1`
    signature in the header made with any of them is accepted. Other versions are ignored.
    """
    msg_id = _header(headers, HEADER_ID)
    raw_ts = _header(headers, HEADER_TIMESTAMP)
    raw_sigs = _header(headers, HEADER_SIGNATURE)
    if not msg_id:
        raise SignatureError("empty webhook-id header")
    try:
        timestamp = int(raw_ts.strip())
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not a unix time in seconds") from exc
    current = time.time() if now is None else now
    # Both directions: an old timestamp is a replay, a far-future one would be replayable later.
    if timestamp < current - tolerance_seconds:
        raise SignatureError("webhook-timestamp is too old")
    if timestamp > current + tolerance_seconds:
        raise SignatureError("webhook-timestamp is too new")

    candidates: list[bytes] = []
    for versioned in raw_sigs.split():
        version, _, encoded = versioned.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not candidates:
        raise SignatureError("no v1 signature in webhook-signature")

    data = _as_bytes(body)
    for one in _secret_list(secret):
        expected = _digest(decode_secret(one), msg_id, timestamp, data)
        # Compare with every candidate (no early exit on the first mismatch), constant time.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
        if matched:
            return msg_id
    raise SignatureError("no matching signature")
