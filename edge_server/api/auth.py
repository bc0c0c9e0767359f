"""Logging in (badge + PIN), pairing handhelds, and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from edge_server.access.users import HANDHELD_ROLES
from edge_server.deps import Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from protocols.envelope import Envelope
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


@router.post("/auth/login", response_model=Envelope[LoginOut])
def login(
    body: LoginIn,
    services: ServicesDep,
    x_device_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Badge + PIN → a short-lived token. Handheld roles must log in from a paired device."""
    device_id = services.devices.identify(x_device_token) if x_device_token else None
    user = services.users.authenticate(body.badge, body.pin)
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


@router.post("/devices/pair", response_model=Envelope[PairOut])
def pair(body: PairIn, services: ServicesDep) -> dict[str, Any]:
    """Trade a one-time pairing code for this handheld's credential (shown once)."""
    paired = services.devices.pair(body.code, body.name)
    return {"data": {"device_id": paired.device_id, "device_token": paired.secret}}


@router.get("/auth/me", response_model=Envelope[dict[str, Any]])
def me(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("session.read"))]
) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": who.kind, "role": who.role, "device_id": who.device_id}
    if who.user_id is not None:
        user = services.users.get(who.user_id)
        data["user"] = {"id": who.user_id, "badge": user.badge if user else None}
    return {"data": data}
