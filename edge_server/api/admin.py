"""Access administration: users, handheld pairing codes and devices, API keys."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from edge_server.api.responses import ok, reply
from edge_server.deps import Mutates, Mutation, Principal, Requires, ServicesDep
from edge_server.errors import AislewayError
from protocols.envelope import Envelope
from protocols.errors import ErrorCode

router = APIRouter(tags=["access"])


class UserIn(BaseModel):
    badge: str = Field(max_length=32)
    pin: str = Field(max_length=8)
    role: str
    name: str = Field(default="", max_length=80)


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    role: Literal["integration", "client"] = "integration"
    client: str | None = Field(
        default=None, max_length=32, description="For role client: the client's code."
    )


@router.get("/users", response_model=Envelope[list[dict[str, Any]]])
def list_users(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("users.read"))]
) -> dict[str, Any]:
    users = services.users.list()
    return {"data": [{"id": u.id, "badge": u.badge, "name": u.name, "role": u.role} for u in users]}


@router.post("/users", status_code=201, response_model=Envelope[dict[str, Any]])
def create_user(
    body: UserIn, services: ServicesDep, m: Annotated[Mutation, Depends(Mutates("users.write"))]
) -> JSONResponse:
    def effect(_w: Any) -> tuple[int, dict[str, Any]]:
        user = services.users.create(badge=body.badge, pin=body.pin, role=body.role, name=body.name)
        return 201, ok({"id": user.id, "badge": user.badge, "role": user.role, "name": user.name})

    # The PIN is part of the request hash but never stored in clear: only its hash is.
    return reply(*m.run(body.model_dump(), effect))


@router.post("/devices/pairing-codes", status_code=201, response_model=Envelope[dict[str, Any]])
def create_pairing_code(
    services: ServicesDep, m: Annotated[Mutation, Depends(Mutates("devices.pair_code"))]
) -> JSONResponse:
    def effect(_w: Any) -> tuple[int, dict[str, Any]]:
        code = services.devices.create_pairing_code(created_by=m.principal.user_id)
        return 201, ok({"code": code.code, "expires_at": code.expires_at})

    return reply(*m.run({}, effect))


@router.get("/devices", response_model=Envelope[list[dict[str, Any]]])
def list_devices(
    services: ServicesDep, who: Annotated[Principal, Depends(Requires("devices.manage"))]
) -> dict[str, Any]:
    return {"data": services.devices.list()}


@router.post("/devices/{device_id}/revoke", response_model=Envelope[dict[str, Any]])
def revoke_device(
    device_id: int,
    services: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("devices.manage"))],
) -> JSONResponse:
    def effect(_w: Any) -> tuple[int, dict[str, Any]]:
        if not services.devices.revoke(device_id):
            raise AislewayError(ErrorCode.NOT_FOUND, details={"device_id": device_id})
        return 200, ok({"device_id": device_id, "revoked": True})

    return reply(*m.run({"device_id": device_id}, effect))


@router.post("/api-keys", status_code=201, response_model=Envelope[dict[str, Any]])
def create_api_key(
    body: ApiKeyIn,
    services: ServicesDep,
    m: Annotated[Mutation, Depends(Mutates("api_keys.manage"))],
) -> JSONResponse:
    def effect(_w: Any) -> tuple[int, dict[str, Any]]:
        key, secret = services.api_keys.create(body.name, body.role, client=body.client)
        data = {"id": key.id, "name": key.name, "role": key.role, "api_key": secret}
        if key.client:
            data["client"] = key.client
        return 201, ok(data)

    return reply(*m.run(body.model_dump(), effect))


@router.post("/api-keys/{key_id}/revoke", response_model=Envelope[dict[str, Any]])
def revoke_api_key(
    key_id: int, services: ServicesDep, m: Annotated[Mutation, Depends(Mutates("api_keys.manage"))]
) -> JSONResponse:
    def effect(_w: Any) -> tuple[int, dict[str, Any]]:
        if not services.api_keys.revoke(key_id):
            raise AislewayError(ErrorCode.NOT_FOUND, details={"api_key_id": key_id})
        return 200, ok({"id": key_id, "revoked": True})

    return reply(*m.run({"key_id": key_id}, effect))
