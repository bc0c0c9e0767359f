"""Logging in (badge + PIN), pairing handhelds, and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from edge_server.access.rate_limit import TooManyAttempts
from edge_server.access.tls import pairing_trust
from edge_server.access.users import HANDHELD_ROLES
from edge_server.deps import Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from protocols.envelope import Envelope, error_envelope
from protocols.errors import ErrorCode

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    badge: str = Field(min_length=1, max_length=64, description="Badge barcode or ID.")
    pin: str = Field(min_length=1, max_length=16)


class LoginOut(BaseModel):
    token: str
    expires_in: int
    user: dict[str, Any]
    device_id: int | None


class PairIn(BaseModel):
    code: str = Field(min_length=4, max_length=32, description="Code shown to the supervisor.")
    name: str = Field(default="", max_length=64, description="A name for this handheld.")


class PairOut(BaseModel):
    device_id: int
    device_token: str = Field(description="Send as X-Device-Token on every request.")
    ca_sha256: str | None = Field(
        default=None,
        description="With TLS on: SHA-256 (hex) of the site CA certificate, to compare with "
        "the one `aisleway edge pair` printed.",
    )
    ca_pem: str | None = Field(
        default=None, description="With TLS on: the site CA certificate to pin (PEM)."
    )


#: Refusals that count as a failed attempt for the per-client limits (docs/security.md).
_FAILED = frozenset(
    {
        ErrorCode.BAD_CREDENTIALS,
        ErrorCode.LOCKED_OUT,
        ErrorCode.DEVICE_UNKNOWN,
        ErrorCode.PAIRING_CODE_INVALID,
    }
)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _too_many(exc: TooManyAttempts) -> JSONResponse:
    body = error_envelope(exc.code, text=exc.text, details=exc.details).model_dump(mode="json")
    return JSONResponse(
        status_code=exc.status, content=body, headers={"Retry-After": str(exc.retry_after)}
    )


@router.post("/auth/login", response_model=Envelope[LoginOut], responses={429: {}})
def login(
    body: LoginIn,
    request: Request,
    services: ServicesDep,
    x_device_token: Annotated[str | None, Header()] = None,
) -> Any:
    """Badge + PIN → a short-lived token. Handheld roles must log in from a paired device.
    Failed attempts are limited per address and per device (429 TOO_MANY_ATTEMPTS)."""
    address, device_id = _address(request), None
    try:
        services.attempts.check(address)
        device_id = services.devices.identify(x_device_token) if x_device_token else None
        services.attempts.check(address, device_id)
        user = services.users.authenticate(body.badge, body.pin)
    except TooManyAttempts as exc:
        return _too_many(exc)
    except AislewayError as exc:
        if exc.code in _FAILED:
            services.attempts.failed(address, device_id)
        raise
    if device_id is None and user.role in HANDHELD_ROLES:
        raise AislewayError(ErrorCode.DEVICE_REQUIRED)
    if user.role == "integration":
        raise AislewayError(
            ErrorCode.FORBIDDEN_ROLE, text="Integrations use an API key, not a badge login."
        )
    token = services.tokens.issue(user_id=user.id, role=user.role, device_id=device_id)
    return {
        "data": {
            "token": token,
            "expires_in": services.tokens.ttl_seconds,
            "user": {"id": user.id, "badge": user.badge, "name": user.name, "role": user.role},
            "device_id": device_id,
        }
    }


@router.post("/devices/pair", response_model=Envelope[PairOut], responses={400: {}, 429: {}})
def pair(body: PairIn, request: Request, services: ServicesDep) -> Any:
    """Trade a one-time pairing code for this handheld's credential (shown once). With TLS on,
    the answer carries the site CA for the handheld to pin. Failed codes are limited per
    address (429 TOO_MANY_ATTEMPTS)."""
    address = _address(request)
    try:
        services.attempts.check(address)
        paired = services.devices.pair(body.code, body.name)
    except TooManyAttempts as exc:
        return _too_many(exc)
    except AislewayError as exc:
        if exc.code in _FAILED:
            services.attempts.failed(address)
        raise
    data: dict[str, Any] = {"device_id": paired.device_id, "device_token": paired.secret}
    trust = pairing_trust(services.settings)
    if trust is not None:
        data["ca_pem"], data["ca_sha256"] = trust
    return {"data": data}


@router.get("/auth/me", response_model=Envelope[dict[str, Any]])
def me(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("session.read"))]
) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": who.kind, "role": who.role, "device_id": who.device_id}
    if who.user_id is not None:
        user = services.users.get(who.user_id)
        data["user"] = {"id": who.user_id, "badge": user.badge if user else None}
    return {"data": data}
