"""HTTP client for one edge server (no Kivy): pairing, badge + PIN login, reads and
idempotent commands, with typed errors the queue and the screens can act on.

Every answer from the edge is the one envelope `{next_state, data, message}`
(`protocols/envelope.py`). `send` and `get` return that envelope as a dict on 2xx and raise:

- `Offline` — no answer at all: connection refused, DNS, timeout, or the connection dropped
  before a full reply arrived. The request may or may not have been applied on the server; the
  caller retries with the SAME idempotency key (docs/terminal-sync.md).
- `Refused` — a 4xx envelope: the server judged the request and said no (`code`, `text`,
  `details`, `status`). `Refused.needs_login` tells an authentication problem (401: log in or pair
  again, then retry) from a refusal of the command itself.
- `ServerError` — 5xx or a reply that is not an envelope: try again later.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from protocols.errors import ErrorCode, message_for

__all__ = [
    "AUTH_CODES",
    "DeviceCredentials",
    "EdgeClient",
    "EdgeError",
    "Offline",
    "Refused",
    "ServerError",
    "Session",
    "UntrustedServer",
    "pem_sha256",
]

#: 401 refusals that a new login (or a new pairing) cures; the command itself was not judged.
AUTH_CODES = frozenset(
    {
        ErrorCode.AUTH_REQUIRED.value,
        ErrorCode.TOKEN_INVALID.value,
        ErrorCode.TOKEN_EXPIRED.value,
        ErrorCode.DEVICE_REQUIRED.value,
        ErrorCode.DEVICE_UNKNOWN.value,
    }
)

DEFAULT_TIMEOUT_SECONDS = 5.0


class EdgeError(Exception):
    """Base of every error the client raises."""


class Offline(EdgeError):
    """The edge server did not answer (connect error, timeout, dropped connection)."""


class UntrustedServer(Offline):
    """The server could not prove it holds a certificate from the site CA pinned at pairing
    (or pairing over HTTPS got no CA, or one whose fingerprint differs from the expected one).
    Nothing was sent; queued commands stay queued. See docs/security.md#tls-and-pinning."""


def pem_sha256(ca_pem: str) -> str:
    """SHA-256 (lowercase hex) of a PEM certificate's DER, as the edge server computes it."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(ca_pem.strip() + "\n")).hexdigest()


def _is_cert_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Refused(EdgeError):
    """The edge server refused the request with a 4xx envelope."""

    def __init__(
        self,
        code: str,
        text: str,
        details: dict[str, Any] | None = None,
        status: int = 400,
        envelope: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {text}")
        self.code = code
        self.text = text
        self.details = details or {}
        self.status = status
        self.envelope = envelope or {}

    @property
    def needs_login(self) -> bool:
        """True for 401s that a login or pairing cures (the command was not judged)."""
        return self.status == 401 and self.code in AUTH_CODES


class ServerError(EdgeError):
    """5xx, or an answer that is not an Aisleway envelope: retry later."""

    def __init__(self, status: int, code: str = ErrorCode.INTERNAL.value, text: str = "") -> None:
        super().__init__(f"{status} {code}: {text}")
        self.status = status
        self.code = code
        self.text = text or message_for(ErrorCode.INTERNAL).text


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    """What pairing gives a handheld (the token is shown once: keep it, see credentials.py)."""

    device_id: int
    device_token: str


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in user on this handheld."""

    user_id: int
    badge: str
    name: str
    role: str
    token: str
    expires_at: float  # time.time() seconds
    user: dict[str, Any] = field(default_factory=dict)


class EdgeClient:
    """One edge server's API (`api_url` like `http://10.0.0.5:8000/api/v1`).

    Thread-safe (httpx.Client is). `transport` is injectable (httpx) for tests that need no
    socket. Device credentials and the current session live on the client; `send` and `get`
    take an explicit `token=` so the replayer can send a queued command as the user who scanned
    it even after another user logged in."""

    def __init__(
        self,
        api_url: str,
        *,
        device: DeviceCredentials | None = None,
        session: Session | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
        app_version: str = "",
        ca_pem: str | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.device = device
        self.session = session
        self.app_version = app_version
        #: The site CA pinned at pairing (PEM); with it, HTTPS trusts only that CA.
        self.ca_pem = ca_pem or None
        headers = {"Accept": "application/json"}
        if app_version:
            headers["User-Agent"] = f"aisleway-terminal/{app_version}"
        self._timeout, self._transport, self._base_headers = timeout, transport, headers
        self._http = self._new_http()

    def _new_http(self, *, verify: ssl.SSLContext | bool | None = None) -> httpx.Client:
        if verify is None:
            verify = ssl.create_default_context(cadata=self.ca_pem) if self.ca_pem else True
        return httpx.Client(
            timeout=self._timeout,
            transport=self._transport,
            headers=self._base_headers,
            verify=verify,
        )

    @property
    def tls(self) -> bool:
        return self.api_url.startswith("https://")

    @property
    def ca_sha256(self) -> str | None:
        """Fingerprint of the pinned site CA (to show next to the supervisor's)."""
        return pem_sha256(self.ca_pem) if self.ca_pem else None

    # -- device and user -----------------------------------------------------------------
    def pair(
        self, code: str, name: str = "", *, expected_ca_sha256: str | None = None
    ) -> DeviceCredentials:
        """`POST /devices/pair`; the client keeps the credentials (save them, credentials.py).

        Not idempotent by key: the one-time code is its own guard. If the answer is lost
        (Offline), the code may be spent: ask the supervisor for a new one.

        Over HTTPS with no CA pinned yet, this one request trusts whatever certificate the
        server shows (trust on first use); the answer carries the site CA, which is pinned from
        then on — after checking its fingerprint against `expected_ca_sha256` when given, and
        that the server proves a certificate from that CA. Otherwise UntrustedServer."""
        first_use = self.tls and self.ca_pem is None
        body = {"code": code, "name": name}
        if first_use:
            unpinned = self._new_http(verify=False)
            pinned, self._http = self._http, unpinned
            try:
                envelope = self._request("POST", "/devices/pair", json=body)
            finally:
                self._http = pinned
                unpinned.close()
        else:
            envelope = self._request("POST", "/devices/pair", json=body)
        data = self._data(envelope)
        device = DeviceCredentials(
            device_id=int(data["device_id"]), device_token=str(data["device_token"])
        )
        if first_use:
            self._pin(data, expected_ca_sha256)
        self.device = device
        self.session = None
        return self.device

    def _pin(self, data: dict[str, Any], expected: str | None) -> None:
        ca_pem, claimed = data.get("ca_pem"), data.get("ca_sha256")
        if not isinstance(ca_pem, str) or not isinstance(claimed, str):
            raise UntrustedServer("the server answered over HTTPS without a site CA to pin")
        try:
            actual = pem_sha256(ca_pem)
        except (ValueError, ssl.SSLError) as exc:
            raise UntrustedServer(f"the pairing answer's site CA is unreadable: {exc}") from exc
        wanted = (expected or claimed).replace(" ", "").replace(":", "").lower()
        if not (hmac.compare_digest(actual, claimed) and hmac.compare_digest(actual, wanted)):
            raise UntrustedServer("the site CA's fingerprint is not the one expected")
        self.ca_pem = ca_pem
        old, self._http = self._http, self._new_http()
        old.close()
        try:
            self.health()  # the server must prove a certificate from the CA it sent
        except UntrustedServer:
            self.ca_pem = None
            self._http.close()
            self._http = self._new_http()
            raise

    def login(self, badge: str, pin: str) -> Session:
        """`POST /auth/login` with the device header; the client keeps the session."""
        started = time.time()
        envelope = self._request("POST", "/auth/login", json={"badge": badge, "pin": pin})
        data = self._data(envelope)
        user = dict(data.get("user") or {})
        self.session = Session(
            user_id=int(user["id"]),
            badge=str(user.get("badge") or badge),
            name=str(user.get("name") or ""),
            role=str(user.get("role") or ""),
            token=str(data["token"]),
            expires_at=started + float(data.get("expires_in") or 0),
            user=user,
        )
        return self.session

    def logout(self) -> None:
        """Forget the current session locally (tokens are stateless on the server)."""
        self.session = None

    # -- requests ------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """`GET /health` (public, outside /api/v1): raises Offline/ServerError like the rest."""
        base = self.api_url
        root = base[: -len("/api/v1")] if base.endswith("/api/v1") else base
        return self._request("GET", "/health", url=root + "/health", auth=False)

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """GET `path` (relative to api_url, e.g. "/inventory/stock") → envelope dict."""
        return self._request("GET", path, params=params, token=token)

    def send(
        self,
        method: str,
        path: str,
        body: Any,
        idempotency_key: str,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """A mutating request with `Idempotency-Key`; → envelope dict on 2xx."""
        return self.exchange(method, path, body, idempotency_key, token=token)[1]

    def exchange(
        self,
        method: str,
        path: str,
        body: Any,
        idempotency_key: str,
        *,
        token: str | None = None,
        scanned_at: datetime | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Like `send`, also returning the HTTP status (the queue stores it). `scanned_at`
        goes along as `X-Scanned-At`, so labor is timed when the scan happened even when the
        command is replayed after a dead zone."""
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        headers = {"Idempotency-Key": idempotency_key}
        if scanned_at is not None:
            if scanned_at.tzinfo is None:
                raise ValueError("scanned_at must carry a time zone")
            headers["X-Scanned-At"] = scanned_at.isoformat()
        return self._call(method.upper(), path, json=body, token=token, extra_headers=headers)

    def close(self) -> None:
        self._http.close()

    # -- internals -----------------------------------------------------------------------
    def _headers(self, token: str | None, auth: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if not auth:
            return headers
        if self.device is not None:
            headers["X-Device-Token"] = self.device.device_token
        bearer = token if token is not None else (self.session.token if self.session else None)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    def _request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """`_call` when only the envelope matters (same keyword options)."""
        return self._call(method, path, **options)[1]

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        extra_headers: dict[str, str] | None = None,
        url: str | None = None,
        auth: bool = True,
    ) -> tuple[int, dict[str, Any]]:
        if url is None:
            if not path.startswith("/"):
                raise ValueError(f"path must start with '/': {path!r}")
            url = self.api_url + path
        headers = self._headers(token, auth)
        headers.update(extra_headers or {})
        try:
            resp = self._http.request(
                method,
                url,
                json=json if method != "GET" else None,
                params=params,
                headers=headers,
            )
        except httpx.TransportError as exc:
            if _is_cert_failure(exc):
                raise UntrustedServer(f"certificate refused: {exc}") from exc
            # Connect errors, timeouts, a connection closed before the whole reply: the
            # request may have been applied. The caller retries with the same key.
            raise Offline(f"{type(exc).__name__}: {exc}") from exc
        return resp.status_code, _envelope(resp)

    @staticmethod
    def _data(envelope: dict[str, Any]) -> dict[str, Any]:
        data = envelope.get("data")
        if not isinstance(data, dict):
            raise ServerError(200, text="The server's answer had no data.")
        return data


def _envelope(resp: httpx.Response) -> dict[str, Any]:
    """The response's envelope, or the typed error for a refusal / a broken answer."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        # Not our envelope (a captive portal, a proxy's error page): nobody judged the
        # command, so it is not a refusal; retry later.
        raise ServerError(resp.status_code, text=f"Not an Aisleway answer ({resp.status_code}).")
    message = body.get("message") if isinstance(body.get("message"), dict) else None
    if resp.status_code >= 500:
        raise ServerError(
            resp.status_code,
            code=str((message or {}).get("code") or ErrorCode.INTERNAL.value),
            text=str((message or {}).get("text") or ""),
        )
    if resp.status_code >= 400:
        code = str((message or {}).get("code") or ErrorCode.INTERNAL.value)
        text = str((message or {}).get("text") or "")
        details = (message or {}).get("details")
        raise Refused(
            code,
            text,
            details if isinstance(details, dict) else None,
            resp.status_code,
            body,
        )
    return body
