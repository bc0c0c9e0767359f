"""FastAPI dependencies: services, the caller (user + device, or API key), permissions,
and the idempotent-mutation context.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool, one
hop per dependency per request, and these are cheap (the caller is two indexed reads on this
thread's read connection). Only the route itself goes to the thread pool (docs/load.md)."""

# No `from __future__ import annotations` here: FastAPI must see the real objects in the
# nested dependency signatures below (a string annotation cannot name a local).
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from edge_server.access.api_keys import API_KEY_PREFIX
from edge_server.access.policy import POLICY, allowed
from edge_server.access.tokens import TOKEN_PREFIX
from edge_server.access.users import HANDHELD_ROLES
from edge_server.db import Database
from edge_server.errors import AislewayError
from edge_server.integration.idempotency import Effect, idempotent_command
from edge_server.services import Services
from edge_server.timeutil import iso, parse_iso, utcnow
from edge_server.wms.ledger import Actor
from protocols.errors import ErrorCode


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_db(services: ServicesDep) -> Database:
    return services.db


DbDep = Annotated[Database, Depends(get_db)]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (on a handheld or the web) or an integration's API key."""

    kind: str  # "user" | "api_key"
    role: str
    user_id: int | None = None
    device_id: int | None = None
    api_key_id: int | None = None
    scanned_at: str | None = None  # the handheld's scan time (`X-Scanned-At`), UTC ISO 8601
    client: str | None = None  # a 3PL client's key: the client's code (docs/clients.md)

    @property
    def actor(self) -> Actor:
        """The ledger's and labor's view of the caller."""
        return Actor(user_id=self.user_id, device_id=self.device_id, scanned_at=self.scanned_at)

    @property
    def id(self) -> str:
        """Stable identity for idempotency keys and audit."""
        if self.kind == "api_key":
            return f"key:{self.api_key_id}"
        return f"user:{self.user_id}"


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AislewayError(ErrorCode.TOKEN_INVALID)
    return value.strip()


def scan_time(header: str | None) -> str | None:
    """`X-Scanned-At`: when the handheld scanned what it sends (it may be replaying a queue
    filled in a Wi-Fi dead zone). Must be ISO 8601 with a time zone; a clock running ahead is
    clamped to the server's time."""
    if header is None or not header.strip():
        return None
    now = utcnow()
    when: datetime | None
    try:
        parsed = parse_iso(header.strip())
        # Year 1 east of UTC or year 9999 west of it has no UTC time: refused like garbage.
        when = parsed.astimezone(now.tzinfo) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        when = None
    if when is None:
        raise AislewayError(
            ErrorCode.VALIDATION_FAILED,
            text="X-Scanned-At must be an ISO 8601 time with a time zone.",
            details={"header": "X-Scanned-At", "value": header[:64]},
        )
    return iso(min(when, now))


async def get_principal(request: Request) -> Principal:
    """The caller, from `Authorization` (a user token or an API key), `X-Device-Token` and
    `X-Scanned-At`. The headers are read straight off the request (FastAPI's per-parameter
    validation costs more than the whole check) and declared in the OpenAPI from
    `reads_headers` (edge_server/openapi_errors.py)."""
    services: Services = request.app.state.services
    headers = request.headers
    authorization = headers.get("authorization")
    x_device_token = headers.get("x-device-token")
    x_scanned_at = headers.get("x-scanned-at")
    token = _bearer(authorization)
    if token is None:
        raise AislewayError(ErrorCode.AUTH_REQUIRED)
    if token.startswith(API_KEY_PREFIX + "_"):
        key = services.api_keys.identify(token)
        return Principal(kind="api_key", role=key.role, api_key_id=key.id, client=key.client)
    scanned_at = scan_time(x_scanned_at)
    if not token.startswith(TOKEN_PREFIX + "."):
        raise AislewayError(ErrorCode.TOKEN_INVALID)
    claims = services.tokens.verify(token)
    user = services.users.get(claims.user_id)
    if user is None or user.role != claims.role:
        raise AislewayError(ErrorCode.TOKEN_INVALID)
    if claims.device_id is not None:
        # A handheld session: the device credential must come along and match the token.
        if not x_device_token:
            raise AislewayError(ErrorCode.DEVICE_REQUIRED)
        if services.devices.identify(x_device_token) != claims.device_id:
            raise AislewayError(ErrorCode.DEVICE_UNKNOWN)
    elif user.role in HANDHELD_ROLES:
        raise AislewayError(ErrorCode.DEVICE_REQUIRED)
    return Principal(
        kind="user",
        role=user.role,
        user_id=user.id,
        device_id=claims.device_id,
        scanned_at=scanned_at,
    )


get_principal.reads_headers = {  # type: ignore[attr-defined]
    "Authorization": "`Bearer <user token>` (from /auth/login) or `Bearer awk_…` (an API key).",
    "X-Device-Token": "The paired handheld's credential (floor roles: required).",
    "X-Scanned-At": "When the handheld scanned what it sends (ISO 8601 with a time zone); "
    "replays after a dead zone keep their scan times.",
}

PrincipalDep = Annotated[Principal, Depends(get_principal)]


def Requires(permission: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold `permission` (see access/policy.py)."""
    if permission not in POLICY:
        raise KeyError(f"unknown permission {permission!r}")

    async def require(principal: PrincipalDep) -> Principal:
        if not allowed(permission, principal.role):
            raise AislewayError(ErrorCode.FORBIDDEN_ROLE, details={"permission": permission})
        return principal

    require.permission = permission  # type: ignore[attr-defined]
    return require


@dataclass
class Mutation:
    """An idempotent write on behalf of a caller."""

    db: Database
    principal: Principal
    key: str | None
    method: str
    path: str

    def command(self, payload: Any, effect: Effect) -> Effect:
        return idempotent_command(
            principal=self.principal.id,
            key=self.key,
            method=self.method,
            path=self.path,
            payload=payload,
            effect=effect,
        )

    def run(self, payload: Any, effect: Effect) -> tuple[int, dict[str, Any]]:
        return self.db.run_write(self.command(payload, effect))

    async def run_async(self, payload: Any, effect: Effect) -> tuple[int, dict[str, Any]]:
        """`run` for an `async def` route: the effect runs on the writer's thread and the
        route takes no thread of its own (the handhelds' stock moves; docs/load.md)."""
        return await self.db.run_write_async(self.command(payload, effect))


def Mutates(permission: str) -> Callable[..., Awaitable[Mutation]]:
    """Dependency for a mutating route: caller holding `permission` + Idempotency-Key + db.

    Use as `m: Annotated[Mutation, Depends(Mutates("stock.move"))]`."""
    requires = Requires(permission)

    async def dep(request: Request, principal: Annotated[Principal, Depends(requires)]) -> Mutation:
        return Mutation(
            db=request.app.state.services.db,
            principal=principal,
            key=request.headers.get("idempotency-key"),
            method=request.method,
            path=request.url.path,
        )

    dep.permission = permission  # type: ignore[attr-defined]
    dep.idempotent = True  # type: ignore[attr-defined]
    dep.reads_headers = {  # type: ignore[attr-defined]
        "Idempotency-Key": "Required: the command's own key; a retry with the same key and "
        "body answers the first answer (docs/api.md).",
    }
    return dep
