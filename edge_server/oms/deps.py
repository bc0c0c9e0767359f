"""FastAPI dependencies of the OMS API: its services, the calling API key, permissions and
idempotent mutations (the same exactly-once machinery as the edge, on the OMS database)."""

# No `from __future__ import annotations`: FastAPI must see the real objects (see edge deps).
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlite_utils import Database as SUDatabase

from edge_server.access.api_keys import API_KEY_PREFIX
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.idempotency import run_idempotent
from edge_server.oms.policy import OMS_POLICY, oms_allowed
from edge_server.oms.services import OmsServices
from protocols.errors import ErrorCode


async def get_oms(request: Request) -> OmsServices:
    services: OmsServices = request.app.state.oms
    return services


OmsDep = Annotated[OmsServices, Depends(get_oms)]


@dataclass(frozen=True, slots=True)
class OmsCaller:
    """An API key: a channel, an administrator or a reader."""

    api_key_id: int
    name: str
    role: str

    @property
    def id(self) -> str:
        return f"key:{self.api_key_id}"


async def get_caller(
    oms: OmsDep, authorization: Annotated[str | None, Header()] = None
) -> OmsCaller:
    if not authorization:
        raise AislewayError(ErrorCode.AUTH_REQUIRED)
    scheme, _, value = authorization.partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token.startswith(API_KEY_PREFIX + "_"):
        raise AislewayError(ErrorCode.API_KEY_INVALID)
    key = oms.api_keys.identify(token)
    return OmsCaller(api_key_id=key.id, name=key.name, role=key.role)


CallerDep = Annotated[OmsCaller, Depends(get_caller)]


def OmsRequires(permission: str) -> Callable[..., Awaitable[OmsCaller]]:
    """Dependency: the calling key's role must hold `permission` (oms/policy.py)."""
    if permission not in OMS_POLICY:
        raise KeyError(f"unknown OMS permission {permission!r}")

    async def require(caller: CallerDep) -> OmsCaller:
        if not oms_allowed(permission, caller.role):
            raise AislewayError(ErrorCode.FORBIDDEN_ROLE, details={"permission": permission})
        return caller

    require.permission = permission  # type: ignore[attr-defined]
    return require


@dataclass
class OmsMutation:
    """An idempotent write on behalf of an API key, on the OMS database."""

    db: Database
    caller: OmsCaller
    key: str | None
    method: str
    path: str

    def run(
        self, payload: Any, effect: Callable[[SUDatabase], tuple[int, dict[str, Any]]]
    ) -> tuple[int, dict[str, Any]]:
        return run_idempotent(
            self.db,
            principal=self.caller.id,
            key=self.key,
            method=self.method,
            path=self.path,
            payload=payload,
            effect=effect,
        )


def OmsMutates(permission: str) -> Callable[..., Awaitable[OmsMutation]]:
    """Dependency for a mutating OMS route: a key holding `permission` + Idempotency-Key."""
    requires = OmsRequires(permission)

    async def mutation(
        request: Request,
        oms: OmsDep,
        caller: Annotated[OmsCaller, Depends(requires)],
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> OmsMutation:
        return OmsMutation(
            db=oms.db,
            caller=caller,
            key=idempotency_key,
            method=request.method,
            path=request.url.path,
        )

    mutation.permission = permission  # type: ignore[attr-defined]
    mutation.idempotent = True  # type: ignore[attr-defined]
    return mutation
